"""The portal as an OpenID Connect provider for tools that only offer "Sign in with …"
(docs/oidc-provider.md): boards register clients, allauth's provider (``allauth.idp.oidc``)
answers the protocol, this app decides who may sign in and which claims a client gets."""
