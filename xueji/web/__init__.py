"""What the web server adds to Streamlit: the sign-in page and cookie, and the gate in front of the app."""
