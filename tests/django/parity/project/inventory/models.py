# The models live in the migrations only: the project exists to run them.
