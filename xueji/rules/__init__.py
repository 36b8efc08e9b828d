"""Pure domain rules: plain values in, plain values out; no Streamlit, no database."""
