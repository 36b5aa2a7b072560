"""Outgoing IO a prediction needs: input downloads, output uploads, webhook delivery.

It knows nothing of the runner: what it reads from a prediction is a small protocol.
"""
