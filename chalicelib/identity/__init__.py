"""People who sign in to the console: accounts with roles (`accounts.py`), password hashes
(`passwords.py`), signed session cookies and CSRF tokens (`sessions.py`), and in AWS the Cognito user
pool's tokens (`cognito.py`). Machine clients keep using the APIs' bearer tokens (local) and IAM (AWS)."""
