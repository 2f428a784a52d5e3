//! A mock OpenAI / Perplexity server on 127.0.0.1 with fault injection.
