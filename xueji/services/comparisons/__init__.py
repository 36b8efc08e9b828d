"""四查三比对: other departments' lists, matching them to the registry, the comparison and its verification."""
