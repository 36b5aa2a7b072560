"""Helpers every test directory shares, one job a module.

``predictors`` loads predictor files, ``harness`` runs a Runtime or the app in
process, ``server_process`` runs a real ``python -m cogrt`` (``auth_server``
is one behind auth middleware), ``waiting`` waits with a deadline,
``input_models`` builds input models and decodes requests, ``data_uris``
builds and reads data URIs, ``sse_client`` reads event streams, and the three
loopback peers (``file_peer``, ``webhook_receiver``, ``download_server``)
stand in for the network. ``fixtures`` makes some of them pytest fixtures for
the whole suite.
"""
