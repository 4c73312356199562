"""Reading the policy in force, at call time (never cached at import)."""

from __future__ import annotations

from defectdesk.policy.models import MarketplacePolicy, PolicyReplay
from defectdesk.policy.profile import DEFAULT_POLICY, Policy, policy_from_profile, profile_complete


def policies_by_marketplace() -> dict[int, Policy]:
    """The stored policies by marketplace id (marketplaces without a row use DEFAULT_POLICY)."""
    return {
        market_id: policy_from_profile(profile_complete(profile))
        for market_id, profile in MarketplacePolicy.objects.values_list("marketplace_id", "profile")
    }


def policy_for(marketplace_id: int) -> Policy:
    """The policy of one marketplace."""
    profile = (
        MarketplacePolicy.objects.filter(marketplace_id=marketplace_id)
        .values_list("profile", flat=True)
        .first()
    )
    return DEFAULT_POLICY if profile is None else policy_from_profile(profile_complete(profile))


def policy_replay_latest(marketplace_id: int) -> PolicyReplay | None:
    """The marketplace's latest recompute after a policy change (None if there was none)."""
    return PolicyReplay.objects.filter(marketplace_id=marketplace_id).order_by("-id").first()
