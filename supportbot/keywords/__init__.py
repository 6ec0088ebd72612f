"""The keyword engine: keywords.yaml in, a route and a reply out."""
