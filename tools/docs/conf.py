# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sphinx configuration of the collection's documentation site (`make docs`, tools/docs.sh).

Based on what `antsibull-docs sphinx-init` writes, with two changes: no intersphinx (the build is offline, so a
reference to another collection renders as plain text instead of fetching an inventory), and MyST for the
Markdown guides of docs/.
"""

project = "alicloud.eip"
copyright = "alicloud.eip contributors"  # noqa: A001 (Sphinx's name)
title = "alicloud.eip collection documentation"
html_short_title = "alicloud.eip docs"

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
display_version = False
# Option names and commands stay as written: no "smart" dashes or quotes (--limit must not become an en dash).
smartquotes = False
html_use_modindex = False
html_use_index = False
html_copy_source = False

# Headings of the guides get anchors, so `guide.md#section` links resolve (and a wrong one is a warning).
myst_heading_anchors = 4
myst_enable_extensions = ["deflist"]

default_role = "any"
nitpicky = True

# References the offline build cannot resolve, because their target is in Ansible's own documentation (another
# collection, ansible-core's configuration, the return values common to all modules), become links to that
# documentation's pages instead of warnings. Only these known kinds: anything else stays a warning (an error
# with -W), so a broken reference inside the collection still fails the build.
ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest"
ANSIBLE_PAGES = {
    "common_return_values": "reference_appendices/common_return_values.html",
    "action_plugins": "plugins/action.html",
    "ansible_configuration_settings": "reference_appendices/config.html",
}
OWN_LABEL_PREFIX = "ansible_collections.alicloud.eip."


def external_target(domain: str, reftype: str, target: str) -> str | None:
    """The address in Ansible's documentation of a reference outside this collection, or None."""
    if reftype == "envvar" and target.startswith("ANSIBLE_"):
        return f"{ANSIBLE_DOCS}/reference_appendices/config.html#envvar-{target}"
    if reftype != "ref":
        return None
    if target in ANSIBLE_PAGES:
        return f"{ANSIBLE_DOCS}/{ANSIBLE_PAGES[target]}"
    if target.startswith("ansible_collections.") and not target.startswith(OWN_LABEL_PREFIX):
        parts = target.split("__", 1)[0].split(".")
        if len(parts) == 4:
            return f"{ANSIBLE_DOCS}/collections/{parts[1]}/{parts[2]}/{parts[3]}.html"
    return None


def link_outside_references(app, env, node, contnode):
    from docutils import nodes

    address = external_target(node.get("refdomain", ""), node.get("reftype", ""), node.get("reftarget", ""))
    if address is None:
        return None
    reference = nodes.reference("", "", internal=False, refuri=address)
    reference.append(contnode)
    return reference


def setup(app):
    app.connect("missing-reference", link_outside_references)


# tools/docs/_templates/extrabody.html: the theme's logo links the site's entry page, not "/" (the site is read
# from disk as well as served).
templates_path = ["_templates"]
