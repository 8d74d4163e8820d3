"""Quality checks on translations: the glossary plus a registry of small rule functions."""
