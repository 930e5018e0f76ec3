from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The site's user. A custom model from the start, so that fields can be added without pain.

    Roles are not on the user: a person is staff in one course and a student in another, so the role
    lives on ``courses.Enrollment``. ``is_staff`` only opens the Django admin.
    """

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
