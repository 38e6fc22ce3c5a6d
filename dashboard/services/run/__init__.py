"""What the runners need: advancing groups, claiming and launching experiments, their reports."""
