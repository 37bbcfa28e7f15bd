"""The `selfinstruct` command line, above every package: the top-level group and the commands that
compose several packages (`registry filter` and `registry dedup` run the generator's checks on a
registered version). Each package keeps its own commands as a thin click layer over its library;
this package only mounts them and composes them.
"""
