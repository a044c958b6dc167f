"""Command-line front end of the sdl-theory toolkit (``sdl-theory``)."""
