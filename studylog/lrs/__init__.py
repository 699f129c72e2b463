"""The portal's LRS endpoint for tools (``/xapi/``): xAPI 1.0.3 Statement, About, State,
Activity Profile, Agent Profile, Activities and Agents resources. See docs/xapi.md."""
