"""Study content as research teams write it: loading and validation."""
