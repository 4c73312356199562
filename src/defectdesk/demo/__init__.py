"""The demo marketplace: generated sellers, users and ledger, on top of every other package."""
