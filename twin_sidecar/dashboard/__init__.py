"""The twin's live dashboard: a web page served by the sidecar (``/dashboard/``) with server-sent events.

``ran_view``: the cell graph and the time series from the mirror's history; ``stream_tails``: what
the twin reads beside its own parts (the xApp's transitions for rewards, shield interventions and PDP
denials; the PDP's decision log; the trust namespace); ``forecast_log``: forecasts kept until what
they predicted has happened; ``feed``: one snapshot of all views; ``routes``: the page, its static
files, ``/dashboard/v1/snapshot`` and the ``/dashboard/v1/events`` stream.
"""
