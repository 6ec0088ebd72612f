"""Nothing a sender can put in a signed form produces a 500."""

from __future__ import annotations

from helpers import PUBLIC, sign
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = st.sampled_from(
    [
        "MessageSid",
        "From",
        "To",
        "Body",
        "NumMedia",
        "MediaUrl0",
        "MediaContentType0",
        "NumSegments",
        "OptOutType",
        "X",
    ]
)
VALUES = st.one_of(
    st.text(max_size=300),
    st.text(min_size=60, max_size=90),
    st.sampled_from(
        ["STOP", "START", "HELP", "STATUS SB-1", "ACK 1", "-1", "99999999999999999999", "+14155550123", ""]
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(KEYS, VALUES), max_size=14), sid=st.text(min_size=1, max_size=120))
def test_arbitrary_signed_forms_never_500(client, pairs, sid):
    from werkzeug.datastructures import MultiDict

    form = MultiDict([("MessageSid", sid), ("From", "+14155550123"), *pairs])
    resp = client.post(
        "/twilio/inbound",
        data=form,
        headers={"X-Twilio-Signature": sign(PUBLIC + "/twilio/inbound", list(form.items(multi=True)))},
    )
    assert resp.status_code in (200, 400), resp.data
