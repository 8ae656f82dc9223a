"""The web chat: server-rendered pages, enhanced by a small script when JavaScript is on."""
