"""`tarn lambda`: a client of a running stack, through botocore on its endpoint; one module per
group of commands, gathered in `app`. Nothing is imported here: `tarn up` loads none of it."""
