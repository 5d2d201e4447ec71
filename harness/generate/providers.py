"""A Faker provider for Braze-flavoured values (STYLE.md: "one Faker provider for Braze-flavoured values").

Every table of outside-world values (platforms, device models, OS versions, ad id types, currencies, phone
number plans, e-mail service providers, ...) is declared once here as a class attribute and read by the
provider methods, by the bulk value pools (`harness.generate.pools`) and by the hypothesis strategies.

Use it like any Faker provider::

    fake = Faker(); fake.add_provider(BrazeProvider); fake.seed_instance(7)
    fake.braze_user_id()            # '65a1f0c2e4b0d1a2b3c4d5e6' (24 lower-case hex)
    fake.braze_device("ios")        # ('iPhone15,2', '17.6.1')
"""

from __future__ import annotations

import base64
from typing import Any

from faker.providers import BaseProvider

from harness.generate.person_draws import PersonDraws

# Mixpanel rejects these as distinct ids (mixpanel-ingestion.md §5.5); the generator never creates them
# (currents-to-mixpanel.md E2). Compared lower-cased, as Mixpanel does.
MIXPANEL_PLACEHOLDER_IDS: frozenset[str] = frozenset(
    {
        "00000000-0000-0000-0000-000000000000", "anon", "anonymous", "nil", "none", "null", "n/a", "na",
        "undefined", "unknown", "<nil>", "0", "-1", "true", "false", "[]", "{}", "lmy47d",
    }
)

# The public sample data's shared values (currents-to-mixpanel.md §1): never generated.
SAMPLE_SHARED_ID = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
SAMPLE_SHARED_OBJECT_ID = "639a35d192b0df004d06514c"


def is_placeholder_id(value: str) -> bool:
    return value.lower() in MIXPANEL_PLACEHOLDER_IDS


def uuid4_from_bits(bits: int) -> str:
    """A UUID4 string (36 chars, `[0-9a-f-]`, fits Mixpanel's `$insert_id` rule E3) from 128 random bits."""
    h = ((bits & _UUID4_CLEAR) | _UUID4_SET).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# RFC 4122 version 4 and variant bits (what uuid.UUID(int=..., version=4) sets), without its overhead.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def _b64(rnd: Any, length: int) -> str:
    """`length` URL-safe base64 characters (the alphabet of FCM tokens) from `rnd`."""
    raw = rnd.getrandbits(6 * length + 8).to_bytes((6 * length + 15) // 8, "big")
    return base64.urlsafe_b64encode(raw).decode()[:length]


class BrazeProvider(BaseProvider):
    """Braze- and Currents-flavoured fake values."""

    # --- devices -----------------------------------------------------------------------------------
    # Currents `platform` values (currents-to-mixpanel.md P4).
    platforms: tuple[str, ...] = ("ios", "android", "web", "kindle", "tvos", "roku")
    # Relative frequency of platforms among devices.
    platform_weights: tuple[int, ...] = (40, 40, 12, 3, 3, 2)
    device_models: dict[str, tuple[str, ...]] = {
        "ios": ("iPhone14,5", "iPhone15,2", "iPhone15,4", "iPhone16,1", "iPhone16,2", "iPhone17,3", "iPad13,18",
                "iPad14,1"),
        "android": ("Pixel 7", "Pixel 8 Pro", "Pixel 9", "SM-S911B", "SM-S928U", "SM-A546E", "moto g84 5G", "CPH2581",
                    "2312DRA50G"),
        "web": ("Chrome", "Firefox", "Safari", "Edge"),
        "kindle": ("KFTRWI", "KFSNWI", "KFRASWI"),
        "tvos": ("AppleTV11,1", "AppleTV14,1"),
        "roku": ("Roku Ultra 4800X", "Roku Express 3960X", "Roku Streaming Stick 4K 3820X"),
    }
    os_versions: dict[str, tuple[str, ...]] = {
        "ios": ("16.7.10", "17.5.1", "17.6.1", "18.0.1", "18.1", "18.3.2", "18.5"),
        "android": ("12", "13", "14", "15"),
        "web": ("Windows 10", "Windows 11", "Mac OS X 14.6", "Mac OS X 15.1", "Linux", "Chrome OS"),
        "kindle": ("Fire OS 7.3.2.9", "Fire OS 8.3.1.0"),
        "tvos": ("17.6", "18.1", "18.2"),
        "roku": ("12.5.0", "13.0.0", "14.0.4"),
    }
    # Currents `ad_id_type` per platform; web and tvOS devices never report an advertising id.
    ad_id_types: dict[str, str] = {
        "ios": "ios_idfa", "android": "google_ad_id", "kindle": "fire_ad_id", "roku": "roku_ad_id"}
    sdk_versions: dict[str, tuple[str, ...]] = {
        "ios": ("9.2.0", "10.3.1", "11.1.1"),
        "android": ("30.4.0", "31.1.0", "32.0.0"),
        "web": ("5.4.0", "5.6.1"),
        "kindle": ("30.4.0",),
        "tvos": ("10.3.1",),
        "roku": ("2.1.0",),
    }
    resolutions: dict[str, tuple[str, ...]] = {
        "ios": ("1170x2532", "1179x2556", "1290x2796", "2048x2732"),
        "android": ("1080x2400", "1440x3120", "1080x2340"),
        "web": ("1920x1080", "2560x1440", "1440x900"),
        "kindle": ("1200x1920",), "tvos": ("1920x1080", "3840x2160"), "roku": ("1920x1080", "3840x2160"),
    }
    carriers: tuple[str, ...] = ("Verizon", "T-Mobile", "AT&T", "Vodafone", "Orange", "Telekom", "O2", "EE")
    browsers: tuple[str, ...] = ("Chrome", "Safari", "Firefox", "Edge", "Samsung Internet")

    # --- e-mail ------------------------------------------------------------------------------------
    esps: tuple[str, ...] = ("SendGrid", "SparkPost", "Amazon SES")
    mailbox_providers: tuple[str, ...] = ("Gmail", "Apple", "Microsoft", "Yahoo", "Comcast", "GMX")
    device_classes: tuple[str, ...] = ("Desktop", "Mobile", "Tablet", "Other")
    email_device_os: tuple[str, ...] = ("iOS", "Android", "Mac OS X", "Windows", "Linux", "Other")
    bounce_reasons: tuple[str, ...] = (
        "550 5.1.1 The email account that you tried to reach does not exist",
        "552 5.2.2 The email account that you tried to reach is over quota",
        "554 5.7.1 Message rejected due to content restrictions",
        "550 5.7.1 Delivery not authorized, message refused",
    )
    deferral_reasons: tuple[str, ...] = (
        "421 4.7.0 Try again later, closing connection",
        "450 4.2.1 The user you are trying to contact is receiving mail too quickly",
        "451 4.3.0 Mail server temporarily rejected message",
    )
    suspected_bot_click_reasons: tuple[str, ...] = ("user_agent", "ip_address", "timing", "hidden_link")

    # --- phones ------------------------------------------------------------------------------------
    # (country calling code, leading national digits, national significant number length)
    phone_plans: tuple[tuple[str, str, int], ...] = (
        ("1", "", 10), ("1", "", 10), ("1", "", 10), ("44", "7", 10), ("49", "15", 11), ("33", "6", 9),
        ("34", "6", 9), ("61", "4", 9), ("55", "119", 11),
    )
    sms_errors: tuple[tuple[str, str], ...] = (
        ("Unknown destination handset", "30003"), ("Message blocked", "30004"), ("Unknown destination", "30005"),
        ("Landline or unreachable carrier", "30006"), ("Carrier violation", "30007"),
    )

    # --- money -------------------------------------------------------------------------------------
    # ISO 4217 code -> minor units.
    currencies: dict[str, int] = {
        "USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "CAD": 2, "AUD": 2, "BRL": 2, "INR": 2, "KRW": 0, "CHF": 2, "SEK": 2,
        "KWD": 3}
    currency_weights: tuple[int, ...] = (50, 15, 8, 5, 4, 4, 3, 3, 2, 2, 2, 2)

    # --- names -------------------------------------------------------------------------------------
    campaign_themes: tuple[str, ...] = (
        "Spring Sale", "Welcome", "Win-Back", "Cart Reminder", "Price Drop", "Weekly Digest", "Flash Deal",
        "Loyalty Points", "New Arrivals", "Feedback Survey", "Renewal Reminder", "Referral Bonus", "Birthday Treat",
        "Feature Launch", "Back In Stock", "Order Update",
    )
    canvas_themes: tuple[str, ...] = (
        "Onboarding Journey", "Re-engagement Flow", "Trial Conversion", "Post-Purchase Nurture", "Churn Prevention",
        "Upsell Path", "Abandoned Browse", "Subscription Renewal",
    )
    step_names: tuple[str, ...] = (
        "Welcome Message", "Day 1 Nudge", "Day 3 Reminder", "Offer", "Final Reminder", "Thank You",
        "Survey Invite", "Delay", "Audience Split", "Action Paths",
    )
    variation_names: tuple[str, ...] = (
        "Variant 1", "Variant 2", "Variant 3", "Short Copy", "Long Copy", "Emoji Subject")
    channels: tuple[str, ...] = (
        "email", "push", "sms", "webhook", "content_card", "in_app_message", "whatsapp", "line", "rcs")
    app_name_suffixes: dict[str, str] = {
        "ios": "iOS", "android": "Android", "web": "Web", "kindle": "Kindle", "tvos": "tvOS", "roku": "Roku"}

    # --- misc --------------------------------------------------------------------------------------
    url_paths: tuple[str, ...] = (
        "/", "/sale", "/products/new", "/account", "/cart", "/blog/launch", "/help", "/unsubscribe")
    timezones: tuple[str, ...] = (
        "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin",
        "Europe/Paris", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo", "Asia/Kolkata",
    )

    # ------------------------------------------------------------------------------------------------
    _person_draws: PersonDraws | None = None

    def _pick(self, values: Any) -> Any:
        # random.choice on Faker's seeded Random: much faster than Faker's weighted random_element.
        return self.generator.random.choice(tuple(values) if isinstance(values, dict) else values)

    def braze_object_id(self) -> str:
        """A 36-char UUID4 string: event ids, campaign/Canvas/variation/step/app ids."""
        value = uuid4_from_bits(self.generator.random.getrandbits(128))
        return value if value != SAMPLE_SHARED_ID else self.braze_object_id()

    def braze_user_id(self) -> str:
        """A Braze user id: 24 lower-case hex characters (an ObjectId), never the samples' shared one."""
        value = f"{self.generator.random.getrandbits(96):024x}"
        return value if value != SAMPLE_SHARED_OBJECT_ID else self.braze_user_id()

    def braze_dispatch_id(self) -> str:
        """A dispatch id: 24 lower-case hex characters (currents-to-mixpanel.md D11)."""
        return self.braze_user_id()

    def braze_external_id(self) -> str:
        """A customer-chosen external user id; never one of Mixpanel's placeholder ids (E2)."""
        rnd = self.generator.random
        form = rnd.randrange(3)
        if form == 0:
            value = self.braze_object_id()
        elif form == 1:
            value = str(rnd.randrange(100_000, 999_999_999))
        else:
            value = f"{self._person().user_name()}-{rnd.randrange(1000, 9999)}"
        return value if not is_placeholder_id(value) else self.braze_external_id()

    def braze_platform(self) -> str:
        return self.generator.random.choices(self.platforms, weights=self.platform_weights)[0]

    def braze_device(self, platform: str | None = None) -> tuple[str, str]:
        """(device_model, os_version), consistent with the platform."""
        platform = platform or self.braze_platform()
        return self._pick(self.device_models[platform]), self._pick(self.os_versions[platform])

    def braze_push_token(self, platform: str) -> str:
        """A push token in the platform's format: APNs 64 hex; FCM `<instance>:APA91b…`; web a push endpoint."""
        rnd = self.generator.random
        if platform in ("ios", "tvos"):
            return f"{rnd.getrandbits(256):064x}"
        if platform == "web":
            return f"https://fcm.googleapis.com/fcm/send/{_b64(rnd, 11)}:{_b64(rnd, 30)}"
        return f"{_b64(rnd, 22)}:APA91b{_b64(rnd, 134)}"

    def braze_ad_id(self, ad_id_type: str) -> str:
        """An advertising id of the given type: IDFA upper-case UUID, others lower-case UUID."""
        value = self.braze_object_id()
        return value.upper() if ad_id_type == "ios_idfa" else value

    def braze_email(self) -> str:
        """Faker's `email(safe=True)`, drawn the same way, faster."""
        return self._person().email()

    def _person(self) -> PersonDraws:
        draws: PersonDraws | None = getattr(self, "_person_draws", None)
        if draws is None:
            draws = self._person_draws = PersonDraws(self.generator)
        return draws

    def braze_phone_number(self) -> str:
        """An E.164 number (`+` and up to 15 digits) from a small set of national numbering plans."""
        rnd = self.generator.random
        cc, lead, length = self._pick(self.phone_plans)
        if cc == "1":  # NANP: area code and exchange never start with 0 or 1
            national = (f"{rnd.randrange(2, 10)}{rnd.randrange(10, 100)}{rnd.randrange(2, 10)}"
                        f"{rnd.randrange(10, 100)}{rnd.randrange(10000):04d}")
        else:
            rest = length - len(lead)
            national = lead + f"{rnd.randrange(10 ** rest):0{rest}d}"
        return f"+{cc}{national}"

    def braze_currency(self) -> str:
        return self.generator.random.choices(tuple(self.currencies), weights=self.currency_weights)[0]

    def braze_price(self, currency: str = "USD") -> float:
        """A price rounded to the currency's minor units."""
        digits = self.currencies.get(currency, 2)
        scale = 100 if digits == 0 and currency in ("JPY", "KRW") else 1
        return round(self.generator.random.uniform(0.5, 500.0) * scale, digits)

    def braze_app_name(self, platform: str) -> str:
        return f"{self.generator.company()} {self.app_name_suffixes[platform]}"

    def braze_campaign_name(self, channel: str | None = None) -> str:
        theme = self._pick(self.campaign_themes)
        channel = channel or self._pick(self.channels)
        return f"{theme} - {channel.replace('_', ' ').title()} {self.generator.random.randrange(1, 100)}"

    def braze_canvas_name(self) -> str:
        return f"{self._pick(self.canvas_themes)} {self.generator.random.randrange(1, 100)}"

    def braze_step_name(self) -> str:
        return self._pick(self.step_names)

    def braze_variation_name(self) -> str:
        return self._pick(self.variation_names)

    def braze_user_agent(self) -> str:
        return self.generator.user_agent()

    def braze_url(self) -> str:
        return f"https://{self.generator.domain_name()}{self._pick(self.url_paths)}"

    def braze_short_url(self) -> str:
        return f"https://brz.ai/{self.bothify('????????')}"

    def braze_subscription_group_id(self) -> str:
        return self.braze_object_id()

    def braze_timezone(self) -> str:
        return self._pick(self.timezones)


def make_faker(seed: int, locale: str = "en_US") -> Any:
    """A Faker instance with the Braze provider, seeded for reproducible output."""
    from faker import Faker

    fake = Faker(locale)
    fake.add_provider(BrazeProvider)
    fake.seed_instance(seed)
    return fake
