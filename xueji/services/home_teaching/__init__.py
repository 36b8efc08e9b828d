"""送教上门: assessments, plans (一人一案) and visits, the coordinator's board, the visit import."""
