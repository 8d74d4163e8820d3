"""Pure QA checks on a source/target pair: small rule functions and their issue type."""
