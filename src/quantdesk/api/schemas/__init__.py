"""Request and response bodies of the REST API (pydantic), separate from the tables."""
