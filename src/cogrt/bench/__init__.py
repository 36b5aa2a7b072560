"""``python -m cogrt bench``: a load tester that knows a Cog model's schema.

Modules, one job each: ``command`` (options, the run), ``plan`` (options
checked), ``target`` (a spawned server or a URL), ``inprocess`` (a
``Runtime`` without HTTP), ``client`` and ``pool`` (raw HTTP/1.1 keep-alive),
``exchanges`` (one prediction in sync, async+webhook or SSE mode),
``webhook_sink``, ``sse_reader``, ``drivers`` and ``schedule`` (closed and
open loops), ``histogram``, ``outcomes``, ``procstats``, ``progress``,
``report`` and ``html_report``. The client never imports ``cogrt.http``.
"""
