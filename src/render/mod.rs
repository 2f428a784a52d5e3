//! Pure functions that turn answers into Discord messages.
