"""Helpers every test directory shares, one job a module.

``predictors`` loads predictor files, ``harness`` runs a Runtime or the app in
process, ``server_process`` runs a real ``python -m cogrt``, ``waiting`` waits
with a deadline, ``data_uris`` builds and reads data URIs, ``sse_client``
reads event streams, and the three loopback peers (``file_peer``,
``webhook_receiver``, ``download_server``) stand in for the network.
``fixtures`` turns some of them into pytest fixtures for the whole suite.
"""
