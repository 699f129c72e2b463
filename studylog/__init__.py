"""Study logs: xAPI statements built from the portal's events, a lossless outbox and forwarder
to the boards' LRSs, and an LRS endpoint for tools. See docs/xapi.md."""
