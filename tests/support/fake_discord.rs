//! A fake Discord: REST routes and a WebSocket gateway on 127.0.0.1.
