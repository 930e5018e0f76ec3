from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "courseapp.accounts"
    label = "accounts"
    verbose_name = "Accounts"
