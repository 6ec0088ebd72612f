"""Background work: the outbox, RQ queues, the job runner, the relay and the worker.

Foundations first: errors, registry and outbox import nothing above them; the
runner runs one outbox row; queues is the one module that enqueues; dispatch
hands committed work to RQ (or runs it here in development); relay and worker
sit on top.
"""
