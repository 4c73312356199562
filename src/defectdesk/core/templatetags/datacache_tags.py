"""`{% shown_cached %}`: a template fragment kept through the one cache seam (core.datacache)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token, token_kwargs
from django.utils.safestring import SafeString

from defectdesk.core.datacache import cached, shows_seller

register = template.Library()


class ShownCachedNode(template.Node):
    def __init__(self, nodelist: NodeList, name: str, options: dict[str, FilterExpression]):
        self.nodelist = nodelist
        self.name = name
        self.options = options

    def render(self, context: template.Context) -> SafeString:
        seller = int(self.options["seller"].resolve(context))
        parts = self.options["parts"].resolve(context)
        seconds = int(self.options["seconds"].resolve(context))
        given = self.options["with"].resolve(context)

        def compute() -> SafeString:
            # Only what `with` gives (read here, so not at all when kept): a fragment must
            # not show what differs between viewers (a CSRF token, the viewer's name).
            values: Mapping[str, Any] = given
            # Already safe: the template engine escaped every value as it rendered them.
            return self.nodelist.render(context.new(dict(values.items())))

        return cached(self.name, shows_seller(seller), parts, compute, seconds)


@register.tag
def shown_cached(parser: Parser, token: Token) -> ShownCachedNode:
    """{% shown_cached "name" seller=<id> parts=<key> seconds=<n> with=<mapping> %}...
    {% endshown_cached %}: the block rendered with only `with`'s names, kept under the
    seller's data version and `parts` (see core.datacache.cached)."""
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError("shown_cached takes a quoted name first")
    options = token_kwargs(bits[2:], parser, support_legacy=False)
    wanted = {"seller", "parts", "seconds", "with"}
    if set(options) != wanted or len(bits) != 2 + len(wanted):
        raise template.TemplateSyntaxError(
            f"shown_cached takes exactly these options: {', '.join(sorted(wanted))}"
        )
    nodelist = parser.parse(("endshown_cached",))
    parser.delete_first_token()
    return ShownCachedNode(nodelist, bits[1][1:-1], options)
