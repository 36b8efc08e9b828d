"""概况: the actor's county, township or school at a glance."""
