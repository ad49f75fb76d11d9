"""Sphinx configuration of the course's website (`make book`; see instructor/book.py).

`instructor.book` writes the pages (the landing page and one executed notebook per chapter)
into a build folder and runs Sphinx on it with this folder as its configuration directory.
Everything a reader's browser loads is in the built site: MathJax is bundled
(sphinx-mathjax-offline), search is Sphinx's own index, and no theme asset comes from a CDN.
"""

project = "Optimization for deep learning"
author = "the course's authors"
copyright = "the course's authors, MIT License"
language = "en"

extensions = [
    "myst_nb",  # notebooks and MyST markdown
    "sphinx_design",  # dropdowns: folded solutions and model answers
    "sphinx.ext.mathjax",
    "sphinx.ext.githubpages",  # .nojekyll: a GitHub Pages branch serves _static/ as it is
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/ (its module name has hyphens)
]

# The chapters are executed by instructor.book (cached there), never by Sphinx.
nb_execution_mode = "off"
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3  # `[text](#section)` links inside a chapter

# The student notebooks are copied beside the pages for the download links, not read as pages.
exclude_patterns = ["student/**"]

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_favicon = "_static/favicon.svg"  # else browsers ask for /favicon.ico, which is not there
# The theme's light mode unless the reader picks another (the figures have white backgrounds);
# without a default the theme logs an error to the console.
html_context = {"default_mode": "light"}
html_copy_source = False  # no page sources in the site: the download link is the notebook
html_show_sourcelink = False
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
}
