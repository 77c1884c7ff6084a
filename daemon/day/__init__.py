"""`hallkeeper day`: a simulated day of the hall, played through its real interfaces."""
