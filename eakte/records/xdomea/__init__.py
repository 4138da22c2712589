"""xdomea 3.0.0 messages of the Aussonderung group: safe parsing, XSD validation, building."""
