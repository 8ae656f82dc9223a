"""Services: apply what the engine decides, through repositories, one transaction at a time."""
