"""Local stand-ins for remote services, so no test reaches the internet."""
