"""Which module builds the Notifier for each Provider type."""

from __future__ import annotations

from collections.abc import Callable

from tide.notification.providers import (
    alertmanager,
    azuredevops,
    azureeventhub,
    bitbucket,
    datadog,
    generic,
    gitea,
    github,
    githubdispatch,
    gitlab,
    googlechat,
    googlepubsub,
    grafana,
    lark,
    matrix,
    msteams,
    natsio,
    opsgenie,
    pagerduty,
    sentry,
    slack,
    telegram,
    webex,
)
from tide.notification.providers.base import InvalidProvider, Notifier, ProviderSettings

__all__ = ["SUPPORTED_TYPES", "notifier_for"]

_FACTORIES: dict[str, Callable[[ProviderSettings], Notifier]] = {
    "generic": generic.GenericNotifier,
    "generic-hmac": generic.GenericHmacNotifier,
    "slack": slack.SlackNotifier,
    "discord": slack.DiscordNotifier,
    "rocket": slack.RocketNotifier,
    "msteams": msteams.MSTeamsNotifier,
    "googlechat": googlechat.GoogleChatNotifier,
    "webex": webex.WebexNotifier,
    "telegram": telegram.TelegramNotifier,
    "matrix": matrix.MatrixNotifier,
    "lark": lark.LarkNotifier,
    "alertmanager": alertmanager.AlertmanagerNotifier,
    "grafana": grafana.GrafanaNotifier,
    "opsgenie": opsgenie.OpsgenieNotifier,
    "pagerduty": pagerduty.PagerDutyNotifier,
    "datadog": datadog.DatadogNotifier,
    "sentry": sentry.SentryNotifier,
    "githubdispatch": githubdispatch.GitHubDispatchNotifier,
    "github": github.GitHubNotifier,
    "gitlab": gitlab.GitLabNotifier,
    "gitea": gitea.GiteaNotifier,
    "bitbucket": bitbucket.BitbucketNotifier,
    "bitbucketserver": bitbucket.BitbucketServerNotifier,
    "azuredevops": azuredevops.AzureDevOpsNotifier,
    "nats": natsio.NatsNotifier,
    "googlepubsub": googlepubsub.GooglePubSubNotifier,
    "azureeventhub": azureeventhub.AzureEventHubNotifier,
}

SUPPORTED_TYPES = frozenset(_FACTORIES)
"""The ``spec.type`` values :func:`notifier_for` builds a Notifier for."""


def notifier_for(settings: ProviderSettings) -> Notifier:
    """Return the Notifier for ``settings.type``.

    Construction checks what can be checked without sending (address form, required token or
    channel), so a broken Provider is reported when it is read, not at its first event.

    Raises:
        InvalidProvider: the type is unknown or the settings cannot work for it (the message
            names the Provider and the field).
    """
    factory = _FACTORIES.get(settings.type)
    if factory is None:
        raise InvalidProvider(
            f"Provider '{settings.name}': type '{settings.type}' is not supported yet"
        )
    return factory(settings)
