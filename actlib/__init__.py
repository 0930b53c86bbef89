"""actlib: the helper library of the activation-functions course."""
