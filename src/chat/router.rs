//! Routing: decides which provider answers a message, and why.
