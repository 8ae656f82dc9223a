"""Tables, repositories and migrations. Services receive repositories; handlers never write SQL."""
