"""Generate a national dataset at a chosen scale, through PostgreSQL ``COPY``, from a seed.

At full scale (``--scale 1``, the default): 1,000 dealers in 7 regions, 800 chapters, about
2,000,000 owners with about 2,300,000 vehicles and 36 months of service visits (about
8,000,000), about 1,200,000 members with their identities, status history (active,
suspended, left, transferred), consents and applications (approved, rejected, pending,
withdrawn), transfers, leads with notes, the points ledger, the chapters' events (about
55,000 over the window, with invitations, about 1,900,000 RSVPs with waitlists, check-ins
and no-shows, and feedback) and the chapters' staff accounts. Every count
scales with ``--scale`` (``0.01`` gives 10 dealers, 8 chapters, ~20,000 owners): a chapter
is as big at any scale, the nation has fewer of them.

How it is built:

- the schema comes from the Alembic revisions (``flask_migrate.upgrade()``) on an empty
  database (``--reset`` drops the ``public`` schema first);
- the loaded tables' foreign keys, unique/primary keys and secondary indexes are dropped,
  the rows are streamed with ``COPY`` (text format), then the keys and indexes are built
  again, the foreign keys re-validated, the id sequences moved past the data, and every
  table vacuumed and analysed;
- the national tables (regions, dealers, chapters, staff accounts) are written by this
  process; the chapters' tables by ``--jobs`` worker processes (default: the core count),
  each taking every n-th chapter and keeping one ``COPY`` open per table. Ids are
  allocated with a stride per worker, so no coordination is needed;
- each table group is one function: ``org`` and ``staff`` run once for the nation,
  ``owners``, ``members`` and ``leads`` run once per chapter with their own random stream
  (seed, group, chapter), and see what earlier groups made for the chapter in ``state``.
  A later issue adds its tables by appending a :class:`Group` to :data:`GROUPS`
  (e.g. a points ledger reading ``state["members"]`` and ``state["persons"]``); the
  earlier groups' data do not change when it does.

Values follow the model's rules: mobiles, ID numbers (GB 11643) and VINs (ISO 3779) are
valid (``clubplatform.validators``: ``make_vin``, the ID check character, and a sample
of everything re-validated at the end); mobiles and ID numbers are unique nationwide by
construction (a bijection of the person number), so a person is a member at most once;
ID numbers are sealed with ``clubplatform.crypto.encrypt`` and indexed with
``blind_index`` with the keys of the app's configuration (``INSTANCE_DIR``, default
``bench/out/instance``, shared with the other benches). About 40% of individual owners
have an ID number on file (what dealer CRMs typically hold), all of them sealed. Chapters
are founded only at dealers with full after-sales on the founding date (the database
trigger checks it). Owners per chapter follow a log-normal spread (big and small dealers).

Usage::

    .venv/bin/python bench/datagen.py --scale 0.01 --reset
    .venv/bin/python bench/datagen.py                 # full scale into clubplatform_bench

Other benches::

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import datagen
    datagen.ensure_dataset(url, scale=1.0, seed=datagen.DEFAULT_SEED)   # reuse or build
    datagen.generate(url, scale=0.01, seed=1, reset=True)              # always build
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import dataclasses
import itertools
import json
import multiprocessing
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
BENCH_DB = "clubplatform_bench"
DEFAULT_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DB}"
DEFAULT_SEED = 20261124
PASSWORD = "Demo-2026-club"

#: full-scale sizes (everything scales with ``scale``)
FULL = {"dealers": 1000, "chapters": 800, "owners": 2_000_000}
#: months of service visits, up to today
MONTHS = 36
#: share of individual owners with an ID number on file
ID_SHARE = 0.40
#: dealer codes of the generated dealers start with this (other benches use their own)
DEALER_PREFIX = "DG-"
MARKER_TABLE = "bench_datagen"


# ------------------------------------------------------------------------------ reference data

#: regions (code, zh, en, weight) and their cities (name, plate prefix, ID province, postal prefix)
REGIONS = (
    ("NC", "华北", "North China", 0.15, (("北京市", "京A", "11", "100"), ("天津市", "津A", "12", "300"),
                                        ("石家庄市", "冀A", "13", "050"), ("太原市", "晋A", "14", "030"))),
    ("NE", "东北", "Northeast", 0.07, (("沈阳市", "辽A", "21", "110"), ("大连市", "辽B", "21", "116"),
                                       ("长春市", "吉A", "22", "130"), ("哈尔滨市", "黑A", "23", "150"))),
    ("EC", "华东", "East China", 0.28, (("上海市", "沪A", "31", "200"), ("南京市", "苏A", "32", "210"),
                                        ("苏州市", "苏E", "32", "215"), ("杭州市", "浙A", "33", "310"),
                                        ("宁波市", "浙B", "33", "315"), ("济南市", "鲁A", "37", "250"),
                                        ("青岛市", "鲁B", "37", "266"), ("合肥市", "皖A", "34", "230"))),
    ("CC", "华中", "Central China", 0.12, (("郑州市", "豫A", "41", "450"), ("武汉市", "鄂A", "42", "430"),
                                           ("长沙市", "湘A", "43", "410"), ("南昌市", "赣A", "36", "330"))),
    ("SC", "华南", "South China", 0.20, (("广州市", "粤A", "44", "510"), ("深圳市", "粤B", "44", "518"),
                                         ("佛山市", "粤E", "44", "528"), ("东莞市", "粤S", "44", "523"),
                                         ("南宁市", "桂A", "45", "530"), ("福州市", "闽A", "35", "350"),
                                         ("厦门市", "闽D", "35", "361"))),
    ("SW", "西南", "Southwest", 0.12, (("成都市", "川A", "51", "610"), ("重庆市", "渝A", "50", "400"),
                                       ("昆明市", "云A", "53", "650"), ("贵阳市", "贵A", "52", "550"))),
    ("NW", "西北", "Northwest", 0.06, (("西安市", "陕A", "61", "710"), ("兰州市", "甘A", "62", "730"),
                                       ("银川市", "宁A", "64", "750"), ("乌鲁木齐市", "新A", "65", "830"))),
)
DEALER_WORDS = ("星徽", "众诚", "华通", "瑞丰", "博远", "恒信", "嘉禾", "鸿运", "德盛", "远景",
                "天润", "盛世", "永达", "宝利", "金港", "中升", "广汇", "华晨", "润东", "新纪元")

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
            "魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚")
#: approximate shares (%) of the 20 commonest surnames; the rest share what is left
_TOP = (7.25, 7.19, 6.79, 5.38, 4.53, 3.08, 2.23, 2.17, 2.02, 1.97,
        1.50, 1.46, 1.33, 1.27, 1.20, 1.15, 1.05, 1.03, 1.02, 0.92)
SURNAME_CUM = list(itertools.accumulate(
    _TOP + tuple(0.55 - 0.004 * i for i in range(len(SURNAMES) - len(_TOP)))))
MALE_CHARS = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波宇浩凯健俊帆斌峰建国志文博然轩晨阳东海林龙亮成"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲桂英婷雪琳晶燕红梅莉萍颖佳欣怡涵慧倩洁琴云月兰凤"
OCCUPATIONS = ("工程师", "教师", "医生", "公务员", "销售经理", "企业主", "自由职业", "会计", "律师",
               "设计师", "程序员", "个体经营", "退休", "司机", "护士", "研究员")
HOBBIES = ("自驾游", "摄影", "钓鱼", "户外露营", "跑步", "骑行", "高尔夫", "美食", "亲子活动", "读书",
           "登山", "音乐", "健身", "茶艺", "汽车改装")
ROADS = ("人民路", "中山路", "解放路", "建设路", "和平路", "长江路", "新华路", "文化路", "滨江路",
         "世纪大道", "科技路", "光明街")
INDUSTRIES = ("物流", "科技", "建设", "贸易", "餐饮", "租赁", "商贸", "文化传媒")
MODELS = ("星辰 S5", "星辰 S7", "远航 L6", "远航 L8", "锐行 X3", "锐行 X5", "致远 E7 纯电",
          "致远 E9 插混", "巡游 M8 MPV")
NEW_ENERGY_MODELS = frozenset({"致远 E7 纯电", "致远 E9 插混"})
COLOURS = ("珍珠白", "曜石黑", "星空灰", "冰川银", "宝石蓝", "熔岩红", "雅士棕")
PLATE_CHARS = "0123456789" * 4 + "ABCDEFGHJKLMNPQRSTUVWXYZ"
WMI = "LDG"

VISIT_TYPES = ("maintenance", "minor_repair", "warranty", "insurance_renewal", "insurance_repair",
               "body_paint", "accessories", "inspection", "major_repair")
#: 100 visit types in proportion to their weights: one draw is an index
VISIT_DRAW = tuple(t for t, w in zip(VISIT_TYPES, (55, 10, 5, 8, 5, 5, 5, 4, 3), strict=True)
                   for _ in range(w))
#: amount range in yuan per visit type
VISIT_AMOUNT = {"first_service": (0, 300), "maintenance": (380, 1800), "warranty": (0, 0),
                "minor_repair": (200, 2500), "major_repair": (3000, 20000),
                "insurance_repair": (1000, 15000), "body_paint": (800, 6000),
                "accessories": (300, 5000), "insurance_renewal": (3000, 9000),
                "inspection": (200, 600)}
#: visit behaviour per owner: (share, mean gap in days, sd of the gap)
BEHAVIOURS = (("loyal", 0.55, 175, 30), ("swinging", 0.30, 300, 110), ("lost", 0.15, 230, 60))
SOURCES = ("showroom", "service_visit", "event", "referral", "online", "import")
SOURCE_CUM = list(itertools.accumulate((30, 35, 10, 10, 10, 5)))
REJECT_REASONS = ("资料不全", "非本店车主", "联系不上本人", "重复申请", "本人放弃入会")
LEAVE_REASONS = ("车辆已出售", "搬迁外地", "本人申请退会", "长期未联系")
TRANSFER_REASONS = ("工作调动，搬迁到新城市", "更换了常去的经销商", "家庭搬迁")
LOST_REASONS = ("购买了竞品", "预算不足，暂缓购车", "联系不上", "已在其他经销商购车")
LEAD_NOTES = ("首次电话联系，客户有意向", "邀请到店试驾", "已试驾，对价格有顾虑", "发送了报价单",
              "客户表示近期不考虑", "约定周末再次到店")
GRADE_DAYS = {"H": 7, "A": 15, "B": 30, "C": 90}

#: mobile prefixes used here: real operator prefixes, except 138 (kept for the demo loader)
MOBILE_PREFIXES = ("130", "131", "132", "133", "134", "135", "136", "137", "139", "145", "147",
                   "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "173",
                   "175", "176", "177", "178", "180", "181", "182", "183", "184", "185", "186",
                   "187", "188", "189", "191", "198", "199")
_MOBILE_SPACE = len(MOBILE_PREFIXES) * 10**8
_MOBILE_MULT = 2_654_435_761  # prime, coprime with the space: p -> mobile is a bijection
#: friends in leads get mobiles from person numbers above this (never an owner's)
FRIEND_BASE = 1_000_000_000

#: the columns written to each table, in order
COLUMNS: dict[str, tuple[str, ...]] = {
    "regions": ("id", "code", "name_zh", "name_en", "created_at"),
    "dealers": ("id", "code", "name", "region_id", "city", "full_after_sales_since",
                "full_after_sales_until", "closed_on", "created_at"),
    "dealer_after_sales_periods": ("id", "dealer_id", "valid_from", "valid_to", "created_at"),
    "chapters": ("id", "dealer_id", "name", "founded_on", "closed_on", "created_at"),
    "users": ("id", "username", "display_name", "email", "password_hash", "role", "chapter_id",
              "locale", "is_active_user", "session_version", "failed_logins", "created_at"),
    "owners": ("id", "chapter_id", "kind", "name", "gender", "mobile", "id_number_enc",
               "id_number_digest", "id_number_masked", "birthday", "occupation", "address",
               "postal_code", "work_address", "email", "hobbies", "advisor_id", "is_vip",
               "customer_since", "created_at", "updated_at"),
    "vehicles": ("id", "chapter_id", "owner_id", "vin", "plate", "model", "colour",
                 "purchase_date", "delivery_date", "selling_dealer_id", "insurance_expiry",
                 "next_inspection_on", "mileage_km", "created_at", "updated_at"),
    "service_visits": ("id", "chapter_id", "order_no", "vehicle_id", "owner_id", "visit_date",
                       "visit_type", "amount_fen", "mileage_km", "created_at"),
    "members": ("id", "chapter_id", "member_number", "owner_id", "name", "gender", "mobile",
                "id_number_enc", "id_number_digest", "id_number_masked", "birthday", "email",
                "hobbies", "locale", "joined_on", "source", "status", "status_since", "tier",
                "points_balance", "consent_sms", "consent_email", "consent_phone",
                "consent_portal", "created_at", "updated_at"),
    "member_identities": ("kind", "digest", "member_id", "created_at"),
    "member_status_periods": ("id", "chapter_id", "member_id", "status", "valid_from", "valid_to",
                              "reason", "end_reason", "created_at"),
    "member_consents": ("id", "member_id", "channel", "granted", "source", "recorded_by_id",
                        "created_at"),
    "applications": ("id", "chapter_id", "owner_id", "source", "status", "applied_on",
                     "decided_on", "decided_at", "decided_by_id", "reason", "created_by_id",
                     "member_id", "created_at"),
    "transfers": ("id", "member_id", "from_chapter_id", "to_chapter_id", "status", "reason",
                  "requested_by_id", "decided_by_id", "decided_at", "effective_on",
                  "decision_note", "created_at"),
    "leads": ("id", "chapter_id", "referrer_member_id", "friend_name", "friend_mobile", "model",
              "grade", "next_follow_up_on", "status", "lost_reason", "purchased_vin",
              "purchased_on", "assigned_to_id", "created_by_id", "reward_recorded_at",
              "created_at", "updated_at"),
    "lead_notes": ("id", "chapter_id", "lead_id", "author_id", "note", "grade", "created_at"),
    "point_rules": ("id", "kind", "key", "value", "effective_from", "effective_to", "note",
                    "created_by_id", "created_at"),
    "partners": ("id", "code", "name", "category", "contact", "active", "created_at",
                 "updated_at"),
    "perks": ("id", "partner_id", "title", "description", "tiers", "points_cost", "valid_from",
              "valid_to", "stock", "taken", "per_member_limit", "status", "created_at",
              "updated_at"),
    "point_campaigns": ("id", "name", "points_per_yuan", "visit_types", "starts_on", "ends_on",
                        "active", "created_by_id", "chapter_id", "created_at"),
    "point_entries": ("id", "member_id", "chapter_id", "kind", "reason", "points", "value_fen",
                      "funder", "venue", "partner_id", "rule_id", "business_date", "expires_on",
                      "idempotency_key", "source_ref", "note", "created_by_id", "created_at"),
    "tier_changes": ("id", "member_id", "tier", "previous_tier", "effective_on",
                     "qualifying_points", "created_at"),
    "vouchers": ("id", "code", "perk_id", "partner_id", "member_id", "entry_id", "status",
                 "valid_to", "used_at", "used_by_id", "created_at"),
    "event_series": ("id", "chapter_id", "title", "frequency", "occurrences", "created_by_id",
                     "created_at"),
    "events": ("id", "chapter_id", "type", "title_zh", "title_en", "description_zh",
               "description_en", "starts_at", "ends_at", "place", "capacity", "rsvp_deadline",
               "max_guests", "attendance_points", "status", "cancel_reason", "rsvp_seq",
               "template_id", "series_id", "audience", "closed_at", "created_by_id",
               "created_at", "updated_at"),
    "event_invitations": ("id", "chapter_id", "event_id", "member_id", "invited_by_id",
                          "queued_at", "created_at"),
    "event_registrations": ("id", "chapter_id", "event_id", "member_id", "walk_in_name",
                            "walk_in_mobile", "walk_in", "guests", "status", "seq", "code",
                            "promoted_at", "cancelled_at", "checked_in_at", "checked_in_by_id",
                            "no_show", "points_recorded_at", "created_at", "updated_at"),
    "event_feedback": ("id", "chapter_id", "event_id", "registration_id", "member_id", "rating",
                       "comment", "created_at"),
}


# ------------------------------------------------------------------------------ the frame

@dataclass(frozen=True)
class ChapterFrame:
    """One chapter, as the per-chapter groups see it."""

    id: int
    index: int
    dealer_id: int
    region_index: int
    city: tuple  # (name, plate prefix, ID province, postal prefix)
    founded_on: int  # date ordinal
    owners: int  # owners to generate
    person_offset: int  # first national person number of the chapter
    manager_id: int = 0
    staff_ids: tuple = ()


@dataclass
class Frame:
    """What the national groups decided, shared (read-only) with the workers."""

    scale: float
    seed: int
    today: int  # date ordinal
    start: int  # first day of the visit window (ordinal)
    ring: object  # clubplatform.crypto.Keyring
    dealer_ids: list = field(default_factory=list)
    chapters: list = field(default_factory=list)
    password_hash: str = ""
    #: what a national group tells the chapter groups (e.g. rule ids)
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """A table group: its tables and the function that writes them.

    ``national`` groups run once, in the main process, as ``fn(frame, out, rng)``;
    the others run once per chapter as ``fn(ctx, chapter, state)``.
    """

    name: str
    tables: tuple
    fn: Callable
    national: bool = False
    #: ``finish(conn)`` runs once after the load (keys and indexes built), autocommit
    finish: Callable | None = None
    #: ``topup(conn) -> {table: rows}`` fills the group's tables from the rows already
    #: loaded, so that a dataset made before the group was added is reused (not rebuilt)
    topup: Callable | None = None


# ------------------------------------------------------------------------------ output

def _conninfo(database_url: str) -> str:
    import sqlalchemy as sa

    url = sa.engine.make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Out:
    """Rows for ``COPY … FROM STDIN``, fed in batches.

    Streaming (the chapter groups): one ``COPY`` per table, each on its own connection,
    all open at once. Sequential (the national groups, small): rows are kept until
    :meth:`close`, then copied table after table in one transaction, so that a later
    table sees the earlier ones (the chapter trigger reads the dealers).
    """

    BATCH = 4000

    def __init__(self, database_url: str, tables, *, sequential: bool = False) -> None:
        import psycopg

        self.database_url = database_url
        self.sequential = sequential
        self._stack = contextlib.ExitStack()
        self._conns = []
        self._copies = {}
        self.buf = {t: [] for t in tables}
        self.count: Counter = Counter()
        if sequential:
            return
        try:
            for table in tables:
                conn = psycopg.connect(_conninfo(database_url))
                self._conns.append(conn)
                conn.execute("SET synchronous_commit = off")
                self._copies[table] = self._stack.enter_context(
                    conn.cursor().copy(_copy_sql(table)))
        except BaseException:
            self.abort()
            raise

    def row(self, table: str, values: tuple) -> None:
        """Add a row (a tuple in :data:`COLUMNS` order; None is NULL).

        The generated strings never hold a tab, newline or backslash: no escaping needed.
        """
        buf = self.buf[table]
        buf.append("\t".join(["\\N" if v is None else str(v) for v in values]))
        if len(buf) >= self.BATCH and not self.sequential:
            self.flush(table)

    def flush(self, table: str) -> None:
        """Send the table's waiting lines (a group that appends to ``buf`` itself calls it)."""
        buf = self.buf[table]
        if buf:
            self._copies[table].write("\n".join(buf) + "\n")
            self.count[table] += len(buf)
            buf.clear()

    def close(self) -> Counter:
        """Send what is left, end every ``COPY`` and commit; returns the rows per table."""
        if self.sequential:
            import psycopg

            with psycopg.connect(_conninfo(self.database_url)) as conn:
                for table, buf in self.buf.items():
                    with conn.cursor().copy(_copy_sql(table)) as copy:
                        for start in range(0, len(buf), self.BATCH):
                            copy.write("\n".join(buf[start:start + self.BATCH]) + "\n")
                    self.count[table] += len(buf)
                    buf.clear()
            return self.count
        for table in self.buf:
            self.flush(table)
        self._stack.close()
        for conn in self._conns:
            conn.commit()
            conn.close()
        return self.count

    def abort(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(Exception):
                conn.cancel()
            with contextlib.suppress(Exception):
                conn.close()


def _copy_sql(table: str) -> str:
    return f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN"


class Ids:
    """Id allocation with a stride per worker: worker w of n gives w+1, w+1+n, …"""

    def __init__(self, worker: int = 0, stride: int = 1) -> None:
        self.stride = stride
        self.first = worker + 1
        self.next: dict[str, int] = {}

    def __call__(self, table: str) -> int:
        value = self.next.get(table, self.first)
        self.next[table] = value + self.stride
        return value

    def peek(self, table: str) -> int:
        """The next id, not taken (a hot loop takes ids itself and stores ``next`` back)."""
        return self.next.get(table, self.first)


@dataclass
class Ctx:
    """What a per-chapter group works with."""

    frame: Frame
    out: Out
    ids: Ids
    rng: random.Random = None  # set per (group, chapter)


# ------------------------------------------------------------------------------ values

_ISO: dict[int, str] = {}


def iso(ordinal: int) -> str:
    text = _ISO.get(ordinal)
    if text is None:
        text = _ISO[ordinal] = date.fromordinal(ordinal).isoformat()
    return text


def stamp(ordinal: int, hour: int = 2) -> str:
    """A UTC timestamp on a business date (10:00 in Shanghai for hour=2)."""
    return f"{iso(ordinal)} {hour:02d}:00:00+00"


def mobile_for(person: int) -> str:
    """The mobile of national person number ``person`` (a bijection: never a duplicate)."""
    q = (person * _MOBILE_MULT + 7_777_777) % _MOBILE_SPACE
    return MOBILE_PREFIXES[q // 10**8] + f"{q % 10**8:08d}"


def id_number_for(person: int, province: str, birthday: int, male: bool) -> str:
    """A valid ID number, unique per person number (area and sequence encode it)."""
    from clubplatform.validators import id_number_check_char

    seq = person % 500
    area = person // 500
    if area >= 42 * 99:
        raise ValueError("too many people for the ID number scheme (scale above ~2)")
    # city codes 41-82 never meet the demo's (01…) nor real Shanghai 310101
    first17 = (f"{province}{area // 99 + 41:02d}{area % 99 + 1:02d}"
               f"{date.fromordinal(birthday):%Y%m%d}{seq // 5:02d}{2 * (seq % 5) + male}")
    return first17 + id_number_check_char(first17)


def chinese_name(rng: random.Random, male: bool) -> str:
    surname = SURNAMES[bisect.bisect(SURNAME_CUM, rng.random() * SURNAME_CUM[-1])]
    chars = MALE_CHARS if male else FEMALE_CHARS
    if rng.random() < 0.35:
        return surname + rng.choice(chars)
    return surname + rng.choice(chars) + rng.choice(chars)


def _hobby_json() -> list[str]:
    rng = random.Random(0)
    out = ["[]"]
    for _ in range(255):
        out.append(json.dumps(rng.sample(HOBBIES, rng.randint(1, 3)), ensure_ascii=False))
    return out


HOBBY_JSON = _hobby_json()


def next_inspection(delivery: int, today: int) -> int:
    """Next periodic inspection: exempt for 6 years, then every 2 years, yearly from year 10."""
    # start a little below the answer, on the schedule (6, 8, 10, 11, 12 …)
    years = max(6, (today - delivery) // 365 - 2)
    if years < 10:
        years -= years % 2
    while add_years(delivery, years) <= today:
        years += 2 if years < 10 else 1
    return add_years(delivery, years)


def add_years(ordinal: int, years: int) -> int:
    d = date.fromordinal(ordinal)
    try:
        return d.replace(year=d.year + years).toordinal()
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28).toordinal()


# ------------------------------------------------------------------------------ national groups

def gen_org(frame: Frame, out: Out, rng: random.Random) -> None:
    """Regions, dealers (most with full after-sales) and chapters (only at those)."""
    scale = frame.scale
    n_dealers = max(2, round(FULL["dealers"] * scale))
    n_chapters = max(1, round(FULL["chapters"] * scale))
    n_fas = min(n_dealers, n_chapters + round(100 * scale))
    created = stamp(date(2018, 1, 2).toordinal())
    for r, (code, zh, en, _w, _cities) in enumerate(REGIONS, start=1):
        out.row("regions", (r, code, zh, en, created))
    weights = [reg[3] for reg in REGIONS]
    dealers = []  # (id, region index, city)
    for d in range(1, n_dealers + 1):
        r = rng.choices(range(len(REGIONS)), weights)[0]
        city = rng.choice(REGIONS[r][4])
        dealers.append((d, r, city))
    fas = set(rng.sample(range(1, n_dealers + 1), n_fas))
    with_chapter = sorted(rng.sample(sorted(fas), n_chapters))
    since_lo, since_hi = date(2008, 1, 1).toordinal(), date(2020, 6, 30).toordinal()
    founded_lo, founded_hi = date(2019, 1, 1).toordinal(), date(2023, 6, 30).toordinal()
    founded_hi = min(founded_hi, frame.today - 30)
    since = {}
    for d, r, city in dealers:
        fas_since = rng.randint(since_lo, since_hi) if d in fas else None
        until = None
        if fas_since and d not in with_chapter and rng.random() < 0.2:
            until = fas_since + rng.randint(400, 2500)  # lost full after-sales later
        since[d] = fas_since
        name = f"{city[0].rstrip('市')}{DEALER_WORDS[d % len(DEALER_WORDS)]}汽车销售服务有限公司"
        out.row("dealers", (d, f"{DEALER_PREFIX}{d:04d}", name, r + 1, city[0],
                            iso(fas_since) if fas_since else None,
                            iso(until) if until else None, None, created))
    sizes = _skewed_sizes(rng, n_chapters, round(FULL["owners"] * scale))
    offset = 0
    for index, d in enumerate(with_chapter):
        _, r, city = dealers[d - 1]
        founded = rng.randint(max(since[d], founded_lo), max(since[d], founded_lo, founded_hi))
        cid = index + 1
        out.row("chapters", (cid, d, f"{city[0].rstrip('市')}{DEALER_WORDS[d % 20]}车友会",
                             iso(founded), None, stamp(founded)))
        frame.chapters.append(ChapterFrame(id=cid, index=index, dealer_id=d, region_index=r,
                                           city=city, founded_on=founded, owners=sizes[index],
                                           person_offset=offset))
        offset += sizes[index]
    frame.dealer_ids = [d for d, _, _ in dealers]


def _skewed_sizes(rng: random.Random, n: int, total: int) -> list[int]:
    """``n`` chapter sizes summing to ``total``, log-normally spread (big and small dealers)."""
    weights = [rng.lognormvariate(0, 0.8) for _ in range(n)]
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    sizes = [int(x) for x in raw]
    for i in sorted(range(n), key=lambda i: raw[i] - sizes[i], reverse=True)[:total - sum(sizes)]:
        sizes[i] += 1
    return sizes


def gen_staff(frame: Frame, out: Out, rng: random.Random) -> None:
    """Each chapter's manager and staff (more staff at bigger chapters); one shared hash."""
    uid = 0
    chapters = []
    for ch in frame.chapters:
        prefix = f"{DEALER_PREFIX}{ch.dealer_id:04d}".lower().replace("-", "")
        uid += 1
        manager = uid
        out.row("users", (uid, f"{prefix}.manager", chinese_name(rng, rng.random() < 0.5),
                          None, frame.password_hash, "chapter_manager", ch.id, None, True, 1, 0,
                          stamp(ch.founded_on)))
        staff = []
        for s in range(1, 3 + ch.owners // 6000):
            uid += 1
            staff.append(uid)
            out.row("users", (uid, f"{prefix}.staff{s}", chinese_name(rng, rng.random() < 0.5),
                              None, frame.password_hash, "chapter_staff", ch.id, None, True, 1,
                              0, stamp(ch.founded_on)))
        chapters.append(dataclasses.replace(ch, manager_id=manager, staff_ids=tuple(staff)))
    frame.chapters[:] = chapters


# ------------------------------------------------------------------------------ chapter groups

class Person:
    """An owner of the chapter, as later groups need it."""

    __slots__ = ("owner_id", "p", "kind", "name", "gender", "mobile", "id_enc", "id_digest",
                 "id_masked", "birthday", "email", "hobbies", "occupation", "address", "postal",
                 "work_address", "advisor_id", "is_vip", "customer_since", "vehicles", "spend12",
                 "last_visit", "visits")


def gen_owners(ctx: Ctx, ch: ChapterFrame, state: dict) -> None:
    """Owners (individuals and companies), their vehicles and 36 months of service visits."""
    from clubplatform.crypto import blind_index, encrypt
    from clubplatform.validators import make_vin, mask_id_number

    rng, ids, out, frame = ctx.rng, ctx.ids, ctx.out, ctx.frame
    row = out.row
    random_, choice = rng.random, rng.choice
    ring, today, start = frame.ring, frame.today, frame.start
    year_ago = today - 365
    city, plate_prefix, province, postal = ch.city
    city_short = city.rstrip("市")
    dealers = frame.dealer_ids
    staff = ch.staff_ids
    cid = ch.id
    persons = []
    seal_seconds, sealed = 0.0, 0
    # the hot loop (service visits) writes its COPY lines itself
    visit_lines = out.buf["service_visits"]
    visit_id, stride = ids.peek("service_visits"), ids.stride
    for k in range(ch.owners):
        p = ch.person_offset + k
        o = Person()
        owner_id = o.owner_id = ids("owners")
        o.p = p
        company = random_() < 0.04
        o.kind = "company" if company else "individual"
        o.id_enc = o.id_digest = o.id_masked = o.birthday = o.gender = None
        if company:
            o.name = f"{city_short}{choice(DEALER_WORDS)}{choice(INDUSTRIES)}有限公司"
            o.mobile = mobile_for(p) if random_() < 0.7 else None
            o.occupation = None
        else:
            male = random_() < 0.62
            o.gender = "male" if male else "female"
            o.name = chinese_name(rng, male)
            o.mobile = mobile_for(p) if random_() < 0.98 else None
            birthday = today - int(rng.triangular(22, 70, 38) * 365.25)
            if random_() < ID_SHARE or o.mobile is None:
                idn = id_number_for(p, province, birthday, male)
                t0 = time.perf_counter()
                o.id_enc = encrypt(idn, ring)
                o.id_digest = blind_index(idn, ring)
                o.id_masked = mask_id_number(idn)
                seal_seconds += time.perf_counter() - t0
                sealed += 1
                o.birthday = birthday
            elif random_() < 0.55:
                o.birthday = birthday
            o.occupation = choice(OCCUPATIONS) if random_() < 0.6 else None
        o.email = f"owner{p}@example.com" if random_() < 0.12 else None
        o.hobbies = HOBBY_JSON[int(random_() * 256)] if random_() < 0.7 else "[]"
        o.address = (f"{city}{choice(ROADS)}{int(random_() * 999) + 1}号"
                     f"{int(random_() * 30) + 1}栋{int(random_() * 2700) + 101}室")
        o.postal = f"{postal}{int(random_() * 1000):03d}"
        o.work_address = (f"{city}{choice(ROADS)}{int(random_() * 999) + 1}号"
                          if random_() < 0.3 else None)
        o.advisor_id = choice(staff) if staff and random_() < 0.85 else None
        o.is_vip = random_() < 0.03
        # how this owner comes back (a behaviour shared by their cars)
        r = random_()
        _, _, gap, sd = BEHAVIOURS[0 if r < 0.55 else 1 if r < 0.85 else 2]
        stop = today if r < 0.85 else today - 365 - int(random_() * 635)
        spread = sd * 2.0  # the sum of 3 uniforms, centred, times 2sd: sd of about sd
        km_per_day = (8000 + random_() * 17000) / 365.0
        r = random_()
        o.vehicles = []
        o.visits = visits = []  # (date, visit id, visit type, amount in fen), for the ledger
        o.spend12 = 0
        last_visit = None
        since = today
        for _ in range(1 + (r < 0.13) + (r < 0.02)):
            vid = ids("vehicles")
            delivery = today - 1 - min(int(rng.expovariate(1 / 1500)), 14 * 365)
            since = min(since, delivery)
            model = choice(MODELS)
            if model in NEW_ENERGY_MODELS:
                plate = f"{plate_prefix}{choice('DF')}{int(random_() * 100000):05d}"
            else:
                plate = plate_prefix + "".join(rng.choices(PLATE_CHARS, k=5))
            vin = make_vin(rng, WMI)
            age = today - delivery
            # service visits in the window: the first service after a recent delivery, then
            # every ``gap`` days or so
            mileage = None
            d = delivery + 30 + int(random_() * 90)
            kind = "first_service"
            if d < start:
                d, kind = start + int(random_() * gap), None
            end = min(today, stop)
            while d <= end:
                vtype = kind or VISIT_DRAW[int(random_() * 100)]
                if vtype == "warranty" and d - delivery > 1095:
                    vtype = "minor_repair"
                lo, hi = VISIT_AMOUNT[vtype]
                amount = lo * 100 + int(random_() * (hi - lo) * 100) if hi else 0
                mileage = int((d - delivery) * km_per_day * (0.9 + random_() * 0.2)) + 5
                day = _ISO.get(d) or iso(d)
                visit_lines.append(f"{visit_id}\t{cid}\tRO{visit_id:012d}\t{vid}\t{owner_id}\t"
                                   f"{day}\t{vtype}\t{amount}\t{mileage}\t{day} 02:00:00+00")
                visits.append((d, visit_id, vtype, amount))
                visit_id += stride
                if d > year_ago:
                    o.spend12 += amount
                last_visit = d
                kind = None
                d += max(30, int(gap + (random_() + random_() + random_() - 1.5) * spread))
            if mileage is None:
                mileage = int(age * km_per_day)
            selling = ch.dealer_id if random_() < 0.8 else choice(dealers)
            vehicle = (vid, cid, owner_id, vin, plate, model, choice(COLOURS),
                       iso(delivery - int(random_() * 16)), iso(delivery), selling,
                       iso(delivery + 365 * (age // 365 + 1)), iso(next_inspection(delivery, today)),
                       mileage, stamp(delivery), stamp(today))
            row("vehicles", vehicle)
            o.vehicles.append(vehicle)
        o.last_visit = last_visit
        o.customer_since = since
        row("owners", _owner_row(o, cid, since, today))
        persons.append(o)
        if len(visit_lines) >= out.BATCH:
            out.flush("service_visits")
    ids.next["service_visits"] = visit_id
    state["persons"] = persons
    state["seal_seconds"] = state.get("seal_seconds", 0.0) + seal_seconds
    state["sealed"] = state.get("sealed", 0) + sealed


def _owner_row(o: Person, chapter_id: int, since: int, today: int) -> tuple:
    return (o.owner_id, chapter_id, o.kind, o.name, o.gender, o.mobile, o.id_enc, o.id_digest,
            o.id_masked, iso(o.birthday) if o.birthday else None, o.occupation, o.address,
            o.postal, o.work_address, o.email, o.hobbies, o.advisor_id, o.is_vip, iso(since),
            stamp(since), stamp(today))


def gen_members(ctx: Ctx, ch: ChapterFrame, state: dict) -> None:
    """Members (about 60% of owners) with identities, status history, consents and
    applications; transfers to other chapters; rejected, pending and withdrawn applications."""
    from clubplatform.crypto import blind_index

    rng, ids, row, frame = ctx.rng, ctx.ids, ctx.out.row, ctx.frame
    random_, randint, choice = rng.random, rng.randint, rng.choice
    ring, today = frame.ring, frame.today
    rate = 0.45 + random_() * 0.34  # this chapter's recruitment: 45%-79% of eligible owners
    staff = ch.staff_ids or (ch.manager_id,)
    others = [c for c in frame.chapters if c.id != ch.id]
    members = []
    member_rows = state["deferred"].setdefault("members", {})
    stories = state["member_story"] = {}  # mid -> (status since, transfer chapter, on)
    suspensions = state["suspensions"] = {}  # mid -> (suspended on, reactivated on)
    for o in state["persons"]:
        eligible = o.kind == "individual" and (o.mobile or o.id_digest)
        lower = max(ch.founded_on, o.customer_since)
        if lower >= today - 2:
            eligible = False
        if not eligible or random_() >= rate:
            if eligible:
                _other_application(ctx, ch, o, lower)
            continue
        span = today - lower
        joined = lower + int(span * random_() ** 1.6)
        if joined >= today - 1:
            joined = today - 2
        applied = max(ch.founded_on, joined - randint(0, 14))
        mid = ids("members")
        source = SOURCES[bisect.bisect(SOURCE_CUM, random_() * SOURCE_CUM[-1])]
        row("applications", (ids("applications"), ch.id, o.owner_id, source, "approved",
                             iso(applied), iso(joined), stamp(joined, 6), ch.manager_id, None,
                             choice(staff) if source != "online" else None, mid,
                             stamp(applied)))
        # the status story
        periods = []  # (chapter_id, status, from, to, reason, end_reason)
        status, status_since = "active", joined
        chapter_now, owner_now = ch.id, o.owner_id
        r = random_()
        room = today - joined
        transfer = None
        if r < 0.05 and room > 30:  # suspended now
            s = joined + randint(15, room - 1)
            periods += [(ch.id, "active", joined, s, "joined", "suspended"),
                        (ch.id, "suspended", s, None, "suspended", None)]
            status, status_since = "suspended", s
        elif r < 0.09 and room > 60:  # suspended once, active again
            s = joined + randint(15, room // 2)
            back = s + randint(7, max(8, today - s - 1))
            back = min(back, today)
            periods += [(ch.id, "active", joined, s, "joined", "suspended"),
                        (ch.id, "suspended", s, back, "suspended", "reactivated"),
                        (ch.id, "active", back, None, "reactivated", None)]
            status_since = back
            suspensions[mid] = (s, back)
        elif r < 0.17 and room > 30:  # left
            left = joined + randint(30, room)
            periods.append((ch.id, "active", joined, left, "joined", "left"))
            status, status_since = "left", left
        elif r < 0.19 and room > 60 and others:  # moved to another chapter
            target = choice(others)
            t = max(joined + randint(30, room), target.founded_on + 1)
            if t <= today:
                transfer = (target, t)
                periods += [(ch.id, "active", joined, t, "joined", "transfer_out"),
                            (target.id, "active", t, None, "transfer_in", None)]
                status_since = t
                chapter_now = target.id
                owner_now = _copy_owner(ctx, o, target, t)
        if not periods:
            periods.append((ch.id, "active", joined, None, "joined", None))
        if transfer is None and status == "active" and random_() < 0.004 and others:
            target = choice(others)  # an open transfer request
            row("transfers", (ids("transfers"), mid, ch.id, target.id, "requested",
                              choice(TRANSFER_REASONS), ch.manager_id, None, None, None, None,
                              stamp(today - randint(0, 20))))
        elif transfer is not None:
            target, t = transfer
            row("transfers", (ids("transfers"), mid, ch.id, target.id, "approved",
                              choice(TRANSFER_REASONS), ch.manager_id, target.manager_id,
                              stamp(t, 6), iso(t), None, stamp(t - randint(1, 10))))
        consents = [random_() < 0.7, bool(o.email) and random_() < 0.5, random_() < 0.5,
                    random_() < 0.4]
        spend = o.spend12 // 100
        tier = ("diamond" if spend >= 15000 else "platinum" if spend >= 8000
                else "gold" if spend >= 3000 else "silver")
        # written when the chapter's groups are done (the points group sets the balance)
        member_rows[mid] = [mid, chapter_now, f"M{mid:08d}", owner_now, o.name, o.gender,
                            o.mobile, o.id_enc, o.id_digest, o.id_masked,
                            iso(o.birthday) if o.birthday else None, o.email, o.hobbies,
                            "zh_Hans_CN", iso(joined), source, status, iso(status_since), tier,
                            0, *consents, stamp(joined, 6), stamp(status_since, 6)]
        stories[mid] = (status_since, transfer[0].id if transfer else None,
                        transfer[1] if transfer else None)
        if o.mobile:
            row("member_identities", ("mobile", blind_index(f"mobile:{o.mobile}", ring), mid,
                                      stamp(joined, 6)))
        if o.id_digest:
            row("member_identities", ("id_number", o.id_digest, mid, stamp(joined, 6)))
        for cid, pstatus, frm, to, reason, end_reason in periods:
            row("member_status_periods", (ids("member_status_periods"), cid, mid, pstatus,
                                          iso(frm), iso(to) if to else None, reason, end_reason,
                                          stamp(frm, 6)))
        for channel, granted in zip(("sms", "email", "phone", "portal"), consents, strict=True):
            if granted:
                row("member_consents", (ids("member_consents"), mid, channel, True,
                                        "application", None, stamp(joined, 6)))
        members.append((mid, o, joined, status))
    state["members"] = members


def _other_application(ctx: Ctx, ch: ChapterFrame, o: Person, lower: int) -> None:
    """Some owners who are not members applied: rejected, pending or withdrawn."""
    rng, today = ctx.rng, ctx.frame.today
    r = rng.random()
    if r >= 0.07:
        return
    staff = ch.staff_ids or (ch.manager_id,)
    source = SOURCES[bisect.bisect(SOURCE_CUM, rng.random() * SOURCE_CUM[-1])]
    if r < 0.035:  # pending, made in the last 45 days
        applied = max(lower, today - rng.randint(0, 45))
        values = ("pending", iso(applied), None, None, None, None)
    else:
        applied = lower + rng.randint(0, max(0, today - lower - 12))
        decided = min(today, applied + rng.randint(1, 10))
        if r < 0.06:
            values = ("rejected", iso(applied), iso(decided), stamp(decided, 6), ch.manager_id,
                      rng.choice(REJECT_REASONS))
        else:
            values = ("withdrawn", iso(applied), iso(decided), stamp(decided, 6), None,
                      "本人撤回申请")
    status, applied_on, decided_on, decided_at, decided_by, reason = values
    ctx.out.row("applications", (ctx.ids("applications"), ch.id, o.owner_id, source, status,
                                 applied_on, decided_on, decided_at, decided_by, reason,
                                 rng.choice(staff) if source != "online" else None, None,
                                 stamp(applied)))


def _copy_owner(ctx: Ctx, o: Person, target: ChapterFrame, day: int) -> int:
    """A transferred member's owner record in the receiving chapter, as the approval makes
    it (``chapter.members.transfers_hooks``): the member's personal fields, no cars."""
    owner_id = ctx.ids("owners")
    ctx.out.row("owners", (owner_id, target.id, "individual", o.name, o.gender, o.mobile,
                           o.id_enc, o.id_digest, o.id_masked,
                           iso(o.birthday) if o.birthday else None, None, None, None, None,
                           o.email, o.hobbies, None, False, None, stamp(day, 6),
                           stamp(day, 6)))
    return owner_id


def gen_leads(ctx: Ctx, ch: ChapterFrame, state: dict) -> None:
    """Referral leads from members (and a few walk-ins), graded, followed up, lost or bought."""
    from clubplatform.validators import make_vin

    rng, ids, row, frame = ctx.rng, ctx.ids, ctx.out.row, ctx.frame
    random_, randint, choice = rng.random, rng.randint, rng.choice
    today = frame.today
    staff = ch.staff_ids or (ch.manager_id,)
    referrers = [(mid, joined) for mid, _o, joined, status in state["members"]
                 if status != "left" and random_() < 0.08]
    walk_ins = [(None, max(ch.founded_on, today - 700)) for _ in range(len(state["persons"]) // 100)]
    for referrer, since in referrers + walk_ins:
        lead_id = ids("leads")
        created = since + randint(0, max(0, today - since))
        grade = choice("HAABBBCCCC")
        r = random_()
        old = today - created > 90
        status = ("purchased" if r < (0.25 if old else 0.10)
                  else "lost" if r < (0.60 if old else 0.20) else "open")
        follow = purchased_on = vin = lost = None
        updated = created
        if status == "purchased":
            purchased_on = min(today, created + randint(3, 60))
            vin = make_vin(rng, WMI)
            updated = purchased_on
        elif status == "lost":
            lost = choice(LOST_REASONS)
            updated = min(today, created + randint(3, 60))
        else:
            follow = iso(today + randint(0, GRADE_DAYS[grade]))
        assigned = choice(staff)
        row("leads", (lead_id, ch.id, referrer, chinese_name(rng, random_() < 0.6),
                      mobile_for(FRIEND_BASE + lead_id), choice(MODELS), grade, follow, status,
                      lost, vin, iso(purchased_on) if purchased_on else None, assigned, assigned,
                      stamp(purchased_on, 6) if purchased_on and referrer else None,
                      stamp(created), stamp(updated)))
        for _ in range(randint(1, 3)):
            day = created + randint(0, max(0, updated - created))
            row("lead_notes", (ids("lead_notes"), ch.id, lead_id, assigned, choice(LEAD_NOTES),
                               grade, stamp(day, 3)))


# ------------------------------------------------------------------------------ points

#: HQ's rules from the programme's start (the first day of the window): (kind, key, value)
POINT_RULES = (
    *(("service_rate", t, 1) for t in ("first_service", *VISIT_TYPES)),  # points per CNY
    ("attendance", "", 200), ("referral", "", 2000), ("birthday", "", 500), ("join", "", 1000),
    ("expiry_months", "", 24), ("point_value", "", 100),  # fen per 100 points
    ("tier_multiplier", "silver", 100), ("tier_multiplier", "gold", 120),
    ("tier_multiplier", "platinum", 150), ("tier_multiplier", "diamond", 200),
    # qualifying points over 12 months (the members group's tiers: spend 3,000/8,000/15,000 CNY)
    ("tier_threshold", "silver", 0), ("tier_threshold", "gold", 3000),
    ("tier_threshold", "platinum", 8000), ("tier_threshold", "diamond", 15000),
)
PARTNERS = (("PT-WASH", "洁途洗车", "洗车"), ("PT-FUEL", "中油优途加油", "加油"),
            ("PT-INS", "安行车险", "保险"), ("PT-HOTEL", "锦程酒店", "酒店"),
            ("PT-TRAVEL", "途远旅行", "旅行"), ("PT-CAFE", "慢时光咖啡", "餐饮"))
#: (partner index, title, tiers allowed, points cost, limit per member)
PERKS = ((0, "精致洗车一次", ("silver", "gold", "platinum", "diamond"), 1500, None),
         (0, "内饰深度清洁", ("gold", "platinum", "diamond"), 6000, 4),
         (1, "加油立减 50 元", ("silver", "gold", "platinum", "diamond"), 5000, 12),
         (1, "加油立减 100 元", ("platinum", "diamond"), 9000, 6),
         (2, "车险保费抵扣 200 元", ("gold", "platinum", "diamond"), 18000, 1),
         (3, "酒店住一晚", ("platinum", "diamond"), 30000, 2),
         (4, "周边自驾游套餐", ("diamond",), 50000, 1),
         (5, "咖啡两杯", ("silver", "gold", "platinum", "diamond"), 800, None))
CAMPAIGN_NAMES = ("保养季双倍积分", "夏季空调检测积分加赠", "冬季安全检查积分月", "店庆积分狂欢",
                  "钣喷积分加倍")
VOUCHER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
#: earn lots and debits per member; a kind's order within a day
_JOIN, _BIRTHDAY, _ATTEND, _VISIT, _PERK, _MANUAL, _ADJUST = range(7)


def month_end(ordinal: int, months: int = 0) -> int:
    """The last day of the month ``months`` months after the month of ``ordinal``."""
    d = date.fromordinal(ordinal)
    index = d.year * 12 + d.month - 1 + months + 1
    return date(index // 12, index % 12 + 1, 1).toordinal() - 1


def points_window(frame: Frame) -> tuple[int, int]:
    """(first day of the ledger, the last month end before today's month).

    The ledger's expiries are written for every month end before the second date; the
    expiry of that month end itself is left to the expiry job (``bench/expiry.py``).
    """
    return frame.start, date.fromordinal(frame.today).replace(day=1).toordinal() - 1


def gen_points_setup(frame: Frame, out: Out, rng: random.Random) -> None:
    """HQ's point rules, the partners and their perks (national)."""
    start = frame.start
    created = stamp(start - 10)
    rules = {}
    for rid, (kind, key, value) in enumerate(POINT_RULES, start=1):
        out.row("point_rules", (rid, kind, key, value, iso(start), None, "积分计划上线", None,
                                created))
        rules[kind, key] = rid
    for pid, (code, name, category) in enumerate(PARTNERS, start=1):
        out.row("partners", (pid, code, name, category, f"400-{rng.randint(1000000, 9999999)}",
                             True, created, created))
    perks = []  # (id, partner id, tiers, cost, limit, valid_from, valid_to)
    for kid, (p, title, tiers, cost, limit) in enumerate(PERKS, start=1):
        valid_from = start + rng.randint(0, 200)
        valid_to = frame.today + rng.randint(60, 400)
        # taken: set after the load, from the vouchers (see points_finish)
        out.row("perks", (kid, p + 1, title, f"{title}，凭券到店使用", json.dumps(list(tiers)),
                          cost, iso(valid_from), iso(valid_to), None, 0, limit, "published",
                          stamp(valid_from - 5), stamp(valid_from - 5)))
        perks.append((kid, p + 1, frozenset(tiers), cost, limit, valid_from, valid_to))
    frame.extra["points"] = {"rules": rules, "perks": perks}


class _MemberLedger:
    """One member's entries as they are generated: balance, FIFO expiry, chapter by date."""

    __slots__ = ("mid", "m_index", "home", "moved_to", "moved_on", "last_end", "entries",
                 "balance", "neg", "expired_pos", "seq", "lots", "lot_at", "value_rule")

    def __init__(self, mid, m_index, home, moved_to, moved_on, last_end, entries,
                 value_rule) -> None:
        self.mid, self.m_index, self.home = mid, m_index, home
        self.value_rule = value_rule
        self.moved_to, self.moved_on, self.last_end = moved_to, moved_on, last_end
        self.entries = entries
        self.balance = self.neg = self.expired_pos = self.seq = 0
        self.lots = []  # (expires on, points) of what was added, expires on never decreasing
        self.lot_at = 0

    def where(self, day: int) -> int:
        """The member's chapter on ``day``."""
        return self.moved_to if self.moved_to and day >= self.moved_on else self.home

    def emit(self, day: int, order: int, values: tuple) -> None:
        self.entries.append((day, order, self.m_index, self.seq, values))
        self.seq += 1

    def expire_before(self, day: int) -> None:
        """Expire at each month end before ``day`` (and before the last one) what is due:
        points added with ``expires_on`` up to it, less every debit so far, if positive."""
        lots = self.lots
        while (self.lot_at < len(lots) and lots[self.lot_at][0] < day
               and lots[self.lot_at][0] < self.last_end):
            end = lots[self.lot_at][0]
            while self.lot_at < len(lots) and lots[self.lot_at][0] == end:
                self.expired_pos += lots[self.lot_at][1]
                self.lot_at += 1
            amount = self.expired_pos + self.neg
            if amount > 0:
                self.neg -= amount
                self.balance -= amount
                day_iso = iso(end)
                # as hq.points.expiry writes it (key, rule, source)
                self.emit(end, 9, (self.mid, self.where(end), "expire", "expiry", -amount,
                                   -amount, None, None, None, self.value_rule, day_iso, None,
                                   f"expire:{self.mid}:{day_iso}", f"expiry:{day_iso}", None,
                                   None,
                                   f"{day_iso} 16:30:00+00"))

    def earn(self, day, order, reason, points, funder, rule, key, ref, note=None, by=None,
             kind="earn", at=None) -> None:
        self.expire_before(day)
        exp = month_end(day, 24)
        self.lots.append((exp, points))
        self.balance += points
        self.emit(day, order, (self.mid, at or self.where(day), kind, reason, points, points,
                               funder, None, None, rule, iso(day), iso(exp), key, ref, note, by,
                               stamp(day, 2 + order)))

    def debit(self, day, order, kind, reason, points, venue, partner, key, ref, note=None,
              by=None, funder=None, at=None) -> None:
        self.expire_before(day)
        if points > self.balance:
            raise AssertionError("a debit above the balance")
        self.balance -= points
        self.neg -= points
        self.emit(day, order, (self.mid, at or self.where(day), kind, reason, -points, -points,
                               funder, venue, partner, None, iso(day), None, key, ref, note, by,
                               stamp(day, 2 + order)))


def gen_points(ctx: Ctx, ch: ChapterFrame, state: dict) -> None:
    """The points ledger of the chapter's members, their tiers' history, the chapter's
    campaigns and the vouchers of the perks they took.

    Per member, in date order: the join bonus (on joining, or on the programme's first day
    for earlier members), service-visit earns (HQ-funded, 1 point per CNY times the tier
    multiplier), campaign earns (chapter-funded), birthday gifts, redemptions at the dealer
    (at a visit) and for partner perks (with a voucher), a few manual awards and
    corrections, and at each month end before the last one the expiry of what was earned
    24 months earlier, oldest first (``ledger.expiring_amount_sql``'s rule). Nothing
    moves after a member left or was suspended, except expiry. The balance never goes
    below zero; the members row gets the sum. Entries are written in date order, ids too.
    """
    rng, ids, out, frame = ctx.rng, ctx.ids, ctx.out, ctx.frame
    random_, randint = rng.random, rng.randint
    info = frame.extra["points"]
    rules, perks = info["rules"], info["perks"]
    start, last_end = points_window(frame)
    today = frame.today
    this_month = last_end + 1
    mult = {key: v for kind, key, v in POINT_RULES if kind == "tier_multiplier"}
    r_join, r_birthday, r_attend = rules["join", ""], rules["birthday", ""], rules["attendance", ""]
    r_service = {t: rid for (k, t), rid in rules.items() if k == "service_rate"}
    managers = {c.id: c.manager_id for c in frame.chapters}
    cid = ch.id
    row = out.row
    # the chapter's own campaigns (chapter-funded bonus points on service spend)
    campaigns = []  # (id, first day, last day, points per yuan, visit types or None)
    for _ in range(randint(0, 3)):
        first = randint(max(start, ch.founded_on), today - 20)
        last = min(today, first + randint(14, 61))
        types = None if random_() < 0.5 else ("maintenance",)
        camp_id = ids("point_campaigns")
        campaigns.append((camp_id, first, last, randint(1, 2), types))
        row("point_campaigns", (camp_id, rng.choice(CAMPAIGN_NAMES), campaigns[-1][3],
                                json.dumps(list(types or ())), iso(first), iso(last),
                                last >= today, ch.manager_id, cid, stamp(first - 7)))
    # the chapter's events (two a month or so): members who attend earn points
    event_days = sorted(randint(max(start, ch.founded_on), today) for _ in range(72))
    entries = []  # (day, order, member index, seq, values without id): sorted, then numbered
    member_rows = state["deferred"]["members"]
    stories = state["member_story"]
    for m_index, (mid, o, joined, status) in enumerate(state["members"]):
        values_row = member_rows[mid]
        tier = values_row[18]
        status_since, moved_to, moved_on = stories[mid]
        stop = status_since if status in ("left", "suspended") else today + 1
        first = max(joined, start)
        if first >= stop:
            continue
        tier_from = None
        if tier != "silver":  # reached at the first monthly recompute after joining
            tier_from = min(month_end(first) + 1, this_month)
            row("tier_changes", (ids("tier_changes"), mid, tier, "silver", iso(tier_from),
                                 o.spend12 // 100, stamp(tier_from, 1)))
        events = [(first, _JOIN, None)]
        for d, visit_id, vtype, amount in o.visits:
            if first <= d < stop and amount > 0:
                events.append((d, _VISIT, (visit_id, vtype, amount)))
        if o.birthday:
            bd = date.fromordinal(o.birthday)
            for year in range(date.fromordinal(first).year, date.fromordinal(today).year + 1):
                try:
                    day = bd.replace(year=year).toordinal()
                except ValueError:
                    day = date(year, 2, 28).toordinal()
                if first < day < stop:
                    events.append((day, _BIRTHDAY, year))
        span = stop - first
        r = random_()
        for _ in range(0 if r < 0.45 else 1 if r < 0.75 else 2 if r < 0.92 else 4):
            events.append((first + int(random_() * span), _PERK, None))
        lo = bisect.bisect_left(event_days, first)
        hi = bisect.bisect_left(event_days, stop)
        r = random_()
        k = min(hi - lo, 0 if r < 0.5 else 1 if r < 0.75 else 3 if r < 0.9 else 6)
        for e in rng.sample(range(lo, hi), k) if k else ():
            events.append((event_days[e], _ATTEND, e))
        if random_() < 0.03:
            events.append((first + int(random_() * span), _MANUAL, None))
        if random_() < 0.015:
            events.append((first + int(random_() * span), _ADJUST, None))
        events.sort(key=lambda e: (e[0], e[1]))
        led = _MemberLedger(mid, m_index, cid, moved_to, moved_on, last_end, entries,
                            rules["point_value", ""])
        earn, debit, where = led.earn, led.debit, led.where
        perk_taken: Counter = Counter()
        for day, order, data in events:
            led.expire_before(day)
            factor = mult[tier] if tier_from and day >= tier_from else 100
            if order == _JOIN:
                earn(day, order, "join", 1000, "hq", r_join, f"join:{mid}", f"member:{mid}")
            elif order == _VISIT:
                visit_id, vtype, amount = data
                pts = amount // 100 * factor // 100
                if pts > 0:
                    earn(day, order, "service", pts, "hq", r_service[vtype],
                         f"visit:{cid}:{visit_id}", f"visit:{visit_id}", at=cid)
                for camp_id, c_first, c_last, per_yuan, types in campaigns:
                    if c_first <= day <= c_last and (types is None or vtype in types):
                        bonus = amount // 100 * per_yuan
                        if bonus > 0:
                            earn(day, order, "campaign", bonus, "chapter", None,
                                 f"campaign:{camp_id}:visit:{visit_id}", f"campaign:{camp_id}",
                                 at=cid)
                if led.balance >= 1000 and random_() < 0.35:
                    pts = min(led.balance, amount) * (3 + int(random_() * 8)) // 1000 * 100
                    if pts > 0:
                        debit(day, order, "redeem",
                              "dealer_parts" if vtype == "accessories" else "dealer_service",
                              pts, "dealer", None, f"redeem:visit:{cid}:{visit_id}",
                              f"visit:{visit_id}", at=cid)
            elif order == _ATTEND:
                earn(day, order, "attendance", 200, "hq", r_attend,
                     f"attendance:{mid}:event:{cid}:{data}", f"event:{cid}:{data}")
            elif order == _BIRTHDAY:
                earn(day, order, "birthday", 500, "hq", r_birthday, f"birthday:{mid}:{data}",
                     f"birthday:{data}")
            elif order == _PERK:
                now_tier = tier if tier_from and day >= tier_from else "silver"
                choices = [k for k in perks if now_tier in k[2] and k[3] <= led.balance
                           and k[5] <= day <= k[6] and (k[4] is None or perk_taken[k[0]] < k[4])]
                if choices:
                    kid, partner, _t, cost, _l, _f, valid_to = rng.choice(choices)
                    perk_taken[kid] += 1
                    voucher = ids("vouchers")
                    debit(day, order, "redeem", "perk", cost, "partner", partner,
                          f"perk:{kid}:voucher:{voucher}", f"voucher:{voucher}")
                    entry_ref = len(entries) - 1
                    used = day + randint(0, 40)
                    code = "".join(VOUCHER_ALPHABET[(rng.getrandbits(5))] for _ in range(16))
                    state.setdefault("vouchers", []).append(
                        (voucher, code, kid, partner, mid, entry_ref,
                         "used" if used <= today else "issued", iso(min(valid_to, day + 90)),
                         stamp(used, 5) if used <= today else None, None, stamp(day, 2 + order)))
            elif order == _MANUAL:
                pts = rng.choice((200, 500, 1000, 2000))
                at = where(day)
                earn(day, order, "manual", pts, "chapter", None, f"manual:{mid}:{led.seq}",
                     None, rng.choice(("车友活动志愿者", "投诉补偿", "优秀车友评选")),
                     managers[at], at=at)
            elif order == _ADJUST:
                at = where(day)
                if led.balance >= 200 and random_() < 0.6:
                    pts = min(led.balance, rng.choice((100, 200, 500)))
                    debit(day, order, "adjust", "correction", pts, None, None,
                          f"adjust:{mid}:{led.seq}", None, "重复积分更正", managers[at], "hq", at=at)
                else:
                    pts = rng.choice((100, 300, 500))
                    earn(day, order, "correction", pts, "hq", None, f"adjust:{mid}:{led.seq}",
                         None, "漏记积分补录", managers[at], kind="adjust", at=at)
        led.expire_before(this_month)
        values_row[19] = led.balance
    # date order within the chapter: ids and rows follow it (a member's own order is kept)
    order_of = sorted(range(len(entries)),
                      key=lambda i: (entries[i][0], entries[i][2], entries[i][3]))
    entry_id = {}
    lines = out.buf["point_entries"]
    for i in order_of:
        eid = ids("point_entries")
        entry_id[i] = eid
        lines.append(f"{eid}\t" + "\t".join(["\\N" if v is None else str(v)
                                             for v in entries[i][4]]))
        if len(lines) >= out.BATCH:
            out.flush("point_entries")
    for v in state.pop("vouchers", ()):
        row("vouchers", (*v[:5], entry_id[v[5]], *v[6:]))


def owners_finish(conn) -> None:
    """After the load: the person keys owners of two chapters share, then the owners'
    triggers that keep them on again (off during the load: one set-based pass instead)."""
    from sqlalchemy.dialects import postgresql

    from chapter.owners.person_keys import held_by_several

    held = held_by_several().compile(dialect=postgresql.psycopg.dialect(),
                                     compile_kwargs={"literal_binds": True})
    conn.execute(f"INSERT INTO shared_person_keys (kind, key) {held}")
    conn.execute("ALTER TABLE owners ENABLE TRIGGER USER")


def points_finish(conn) -> None:
    """After the load: each perk's ``taken`` is the number of its vouchers."""
    conn.execute("UPDATE perks SET taken = v.n FROM (SELECT perk_id, count(*) AS n "
                 "FROM vouchers GROUP BY perk_id) v WHERE v.perk_id = perks.id")


# ------------------------------------------------------------------------------ events

#: per event type: (capacity from, to, guests a member may bring, minutes, start in minutes
#: after midnight in Shanghai)
EVENT_SHAPES = {
    "car_care": (20, 60, 1, 120, 14 * 60),
    "self_drive": (20, 80, 2, 600, 8 * 60),
    "gala": (80, 200, 1, 240, 18 * 60),
    "test_drive": (20, 50, 1, 360, 10 * 60),
    "other": (20, 100, 2, 180, 14 * 60),
}
#: the car-care class's topic in each month, January first
CARE_TOPICS = (("冬季用车安全", "Safe winter driving"),
               ("春节返乡出行检查", "Before the Spring Festival drive"),
               ("春季保养常识", "Spring maintenance basics"), ("轮胎与制动", "Tyres and brakes"),
               ("雨季驾驶安全", "Driving in the rainy season"),
               ("夏季空调养护", "Air conditioning in summer"), ("高温天气用车", "Cars in the heat"),
               ("新能源电池养护", "Caring for an EV battery"),
               ("秋季自驾准备", "Getting ready for autumn trips"),
               ("车内清洁与消毒", "Cleaning the cabin"),
               ("防冻液与电瓶检查", "Coolant and battery checks"),
               ("冬季保养要点", "Winter maintenance"))
TRIP_PLACES = (("湖畔露营", "lakeside camping"), ("古镇探访", "an old town"),
               ("山地草原", "mountain grasslands"), ("海滨公路", "the coast road"),
               ("郊野公园", "a country park"), ("茶园采风", "the tea gardens"))
#: (title, English title, place)
OTHER_EVENTS = (("亲子嘉年华", "Family carnival", "城市公园"), ("公益植树", "Tree planting", "郊区林场"),
                ("车友摄影大赛", "Owners' photo contest", "展厅二楼"),
                ("新春茶话会", "Spring Festival tea party", "展厅二楼"),
                ("车友篮球友谊赛", "Owners' basketball match", "体育中心"))
EVENT_DESCRIPTIONS = {
    "car_care": "每月一次：保养常识、季节用车、动手小课堂。",
    "self_drive": "车友结伴出行：统一集合，车队前往，全程有领队和救援车。",
    "gala": "感谢车主一年来的支持：晚宴、抽奖、年度优秀车友颁奖。",
    "test_drive": "新车到店，专业顾问陪同试驾，可携家人同行。",
    "other": None,
}
EVENT_CANCEL_REASONS = ("天气原因，活动取消", "场地临时不可用", "报名人数不足", "讲师行程变更")
FEEDBACK_GOOD = ("很有收获", "组织得很好", "希望多办几次", "讲解很专业", "路线安排合理", "服务周到",
                 "下次还来")
FEEDBACK_POOR = ("签到排队太久", "内容一般", "时间安排不合理", "场地有点小")
#: a rating is one draw from these (about 4.1 on average)
RATINGS = (5,) * 11 + (4,) * 7 + (3,) * 3 + (2, 1)
#: walk-ins who are not members get mobiles from person numbers above this (nobody else's)
WALK_IN_BASE = 2 * FRIEND_BASE
#: how far ahead of the data's last day events are planned (the car-care series: the year)
EVENT_HORIZON = 60


def local_stamp(minute: int) -> str:
    """The UTC timestamp of a minute on the Shanghai clock (``day ordinal × 1440 + minutes
    after local midnight``; Shanghai is UTC+8 all year)."""
    day, m = divmod(minute - 480, 1440)
    return f"{_ISO.get(day) or iso(day)} {m // 60:02d}:{m % 60:02d}:00+00"


def _weekend(rng: random.Random, first: int, days: int) -> int:
    """A Saturday (sometimes the Sunday after it) in the month of ``days`` days from ``first``."""
    d = first + int(rng.random() * days)
    d += (5 - (d - 1) % 7) % 7  # ordinal 1 is a Monday
    if d >= first + days:
        d -= 7
    if rng.random() < 0.35 and d + 1 < first + days:
        d += 1
    return d


def _event_plan(rng: random.Random, ch: ChapterFrame, first_day: int, last_day: int,
                size: float) -> list[tuple]:
    """The chapter's calendar: ``(day, type, series year or None, title, English title,
    place)``. Every month the car-care class (a monthly series per year, on the same day of
    the month, planned to December); a gala each December; self-drive trips, test-drive days
    and other events more often at bigger chapters (``size`` 0…1)."""
    city = ch.city[0].rstrip("市")
    showroom = f"{city}{DEALER_WORDS[ch.dealer_id % len(DEALER_WORDS)]}4S店"
    p_trip, p_test, p_other = 0.3 + 0.3 * size, 0.08 + 0.4 * size, 0.08 + 0.5 * size
    d0, d1 = date.fromordinal(first_day), date.fromordinal(last_day)
    plan = []
    series_day: dict[int, int] = {}
    for index in range(d0.year * 12 + d0.month - 1, d1.year * 12 + 12):
        year, month = index // 12, index % 12 + 1
        first = date(year, month, 1).toordinal()
        days = month_end(first) - first + 1
        dom = series_day.setdefault(year, rng.randint(8, 25))
        day = first + min(dom, days) - 1
        if day >= first_day:  # the series runs to December (it is cut later if not yet made)
            topic, topic_en = CARE_TOPICS[month - 1]
            plan.append((day, "car_care", year, f"爱车课堂 · {topic}", f"Car-care class: {topic_en}",
                         f"{showroom}展厅二楼"))
        extras = []
        if month == 12:
            extras.append(("gala", first + 9 + int(rng.random() * 19)))
        for kind, p in (("self_drive", p_trip), ("test_drive", p_test), ("other", p_other)):
            if rng.random() < p:
                extras.append((kind, _weekend(rng, first, days)))
        for kind, day in extras:
            if not first_day <= day <= last_day:
                continue
            if kind == "gala":
                plan.append((day, kind, None, f"{year}年度车主答谢晚会",
                             f"Annual owners' gala {year}", f"{city}国际酒店宴会厅"))
            elif kind == "self_drive":
                zh, en = rng.choice(TRIP_PLACES)
                plan.append((day, kind, None, f"周末自驾游 · {zh}", f"Weekend self-drive: {en}",
                             f"{showroom}门前集合"))
            elif kind == "test_drive":
                model = rng.choice(MODELS)
                plan.append((day, kind, None, f"新车试驾日 · {model}", f"Test-drive day: {model}",
                             f"{showroom}试驾中心"))
            else:
                zh, en, place = rng.choice(OTHER_EVENTS)
                plan.append((day, kind, None, zh, en, f"{city}{place}"))
    plan.sort(key=lambda e: (e[0], EVENT_SHAPES[e[1]][4]))
    return plan


def gen_events(ctx: Ctx, ch: ChapterFrame, state: dict) -> None:
    """The chapter's events over the window, with invitations, RSVPs, check-ins and feedback.

    About 1–3 events a month (more at bigger chapters; see :func:`_event_plan`); about 3%
    cancelled. Per event an audience of members active on the day is invited (one run, by
    the manager, handed to the outbox at once); some of them RSVP, in arrival order (``seq``
    1…n, the event's ``rsvp_seq`` the last), with 0–2 guests: registered while the seats
    last, waitlisted after, and about 7% cancel before the deadline, which moves the
    waitlist up as :func:`chapter.events.service.promote_waitlist` does. Past events are
    checked in (about 75% of the registered; the close job, the night after, marks the rest
    no-shows), some have walk-ins at the door, and about 30% of the attendees rate the
    event. Events ahead of the data's last day are open: RSVPs so far, nothing else. Nothing
    is dated after 10:00 on the last day. Attendance points are the points group's own
    ledger entries: these events announce none (``attendance_points`` 0) and
    ``points_recorded_at`` stays NULL, so closing one owes nothing. Check-in codes are 80
    bits of a hash of (seed, registration id) in ``hq.perks.codes``' alphabet (a collision
    among millions is ~1e-12 likely; the unique key would refuse it loudly). Members who
    transferred in from another chapter are not in this chapter's events.
    """
    from base64 import b32encode
    from hashlib import blake2b

    from hq.perks.codes import ALPHABET, LENGTH

    rng, ids, out, frame = ctx.rng, ctx.ids, ctx.out, ctx.frame
    random_, randint, choice = rng.random, rng.randint, rng.choice
    row = out.row
    cid, today, seed = ch.id, frame.today, frame.seed
    now = today * 1440 + 10 * 60  # 10:00 in Shanghai on the data's last day
    manager = ch.manager_id
    staff = (manager, *ch.staff_ids)
    to_code = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())

    def code_of(rid: int) -> str:
        digest = blake2b(f"{seed}/{rid}".encode(), digest_size=LENGTH * 5 // 8).digest()
        return b32encode(digest).translate(to_code).decode()

    null = "\\N"  # COPY's NULL, in the lines the hot loop writes itself
    # the chapter's members, by join date: (joined, id, gone from, suspended from, to)
    stories, suspensions = state["member_story"], state.get("suspensions", {})
    pool = []
    for mid, _o, joined, status in state["members"]:
        since, moved_to, moved_on = stories[mid]
        gone = (since if status in ("left", "suspended") else moved_on if moved_to
                else today + 10_000)
        pool.append((joined, mid, gone, *suspensions.get(mid, (0, 0))))
    pool.sort()
    joined_days = [p[0] for p in pool]
    plan = _event_plan(rng, ch, max(frame.start, ch.founded_on + 7), today + EVENT_HORIZON,
                       min(1.0, len(pool) / 6000))
    # the car-care series: one a year, made three weeks before its first class (if by now)
    classes: dict[int, list] = {}  # year -> [first day, classes]
    for day, _kind, year, *_ in plan:
        if year is not None:
            classes.setdefault(year, [day, 0])[1] += 1
    series: dict[int, tuple | None] = {}  # year -> (series id, made at), None if not yet made
    for year, (first, count) in classes.items():
        made = max(first - 21, ch.founded_on) * 1440 + 10 * 60
        if made > now:
            series[year] = None
            continue
        sid = ids("event_series")
        series[year] = (sid, made)
        row("event_series", (sid, cid, f"爱车课堂 {year}", "monthly", count, manager,
                             local_stamp(made)))
    reg_lines, inv_lines = out.buf["event_registrations"], out.buf["event_invitations"]
    batch = out.BATCH
    for day, kind, year, title, title_en, place in plan:
        lo, hi, guests_max, minutes, start_min = EVENT_SHAPES[kind]
        if year is not None:
            if series[year] is None:
                continue
            series_id, made = series[year]
        else:
            series_id = None
            made = max((day - randint(21, 35)) * 1440 + 600 + randint(0, 420),
                       ch.founded_on * 1440 + 600)
            if made > now:
                continue
        starts = day * 1440 + start_min
        ends, deadline = starts + minutes, starts - 1440
        capacity = randint(lo, hi)
        invited_at = max(made + 60, starts - randint(10, 20) * 1440 + randint(-240, 180))
        cancelled_at = None
        if random_() < 0.03:
            t = randint(invited_at + 60, starts - 120)
            cancelled_at = t if t <= now else None
        rsvp_until = min(deadline, now, cancelled_at or deadline)
        eid = ids("events")
        # the audience: members active on the day, who joined before the invitation
        n = bisect.bisect_right(joined_days, invited_at // 1440)
        # members who want a seat: about 40% of the events fill up and keep a waitlist
        wanted = min(int(capacity * (0.4 + 0.7 * random_()) * (1.2 if kind == "gala" else 1)),
                     int(n * 0.3))
        extra = int(wanted * (0.3 + 0.7 * random_()))
        need = wanted + extra
        picked = rng.sample(range(n), min(n, need + need // 8 + 2)) if need else ()
        audience = [p[1] for p in (pool[i] for i in picked)
                    if p[2] > day and not p[3] <= day < p[4]][:need]
        if invited_at <= now:
            stamp_inv = local_stamp(invited_at)
            tail = f"\t{manager}\t{stamp_inv}\t{stamp_inv}"
            for mid in audience:
                inv_lines.append(f"{ids('event_invitations')}\t{cid}\t{eid}\t{mid}{tail}")
            if len(inv_lines) >= batch:
                out.flush("event_invitations")
        # RSVPs in arrival order (most soon after the invitation), then cancellations
        window = deadline - invited_at - 10
        arrivals = []  # (minute, member, guests)
        for mid in audience[:wanted]:
            t = invited_at + 10 + int(window * random_() ** 1.5)
            if t <= rsvp_until:
                g = random_()
                arrivals.append((t, mid, min(guests_max, 0 if g < 0.6 else 1 if g < 0.9 else 2)))
        arrivals.sort()
        count = len(arrivals)
        status = [""] * count
        promoted, withdrawn = [None] * count, [None] * count
        actions = [(a[0], 0, k) for k, a in enumerate(arrivals)]
        for k, (t, _mid, _g) in enumerate(arrivals):
            if random_() < 0.07:
                w = t + int((rsvp_until - t) * random_())
                actions.append((w, 1, k))
        actions.sort()
        seats, waiting = 0, []
        for t, what, k in actions:
            party = 1 + arrivals[k][2]
            if what == 0:
                if not waiting and seats + party <= capacity:
                    status[k], seats = "registered", seats + party
                else:
                    status[k] = "waitlisted"
                    waiting.append(k)
                continue
            was, status[k], withdrawn[k] = status[k], "cancelled", t
            if was == "waitlisted":
                waiting.remove(k)
                continue
            seats -= party
            while waiting and seats + 1 + arrivals[waiting[0]][2] <= capacity:
                j = waiting.pop(0)
                status[j], promoted[j] = "registered", t
                seats += 1 + arrivals[j][2]
        # after the event: check-ins, then the close job (the next night) marks no-shows
        past = cancelled_at is None and ends <= now
        closed = None
        if past:
            closed = (ends // 1440 + 1) * 1440 + 120 + randint(0, 30)
            if closed > now:
                closed = None
        attendees = []  # (registration id, member id)
        for k, (t, mid, guests) in enumerate(arrivals):
            rid = ids("event_registrations")
            checked = by = None
            no_show = False
            if past and status[k] == "registered":
                if random_() < 0.75:
                    checked, by = starts + randint(-40, 30), choice(staff)
                    attendees.append((rid, mid))
                else:
                    no_show = closed is not None
            updated = max(t, promoted[k] or 0, withdrawn[k] or 0, checked or 0,
                          closed if no_show else 0)
            reg_lines.append(
                f"{rid}\t{cid}\t{eid}\t{mid}\t\\N\t\\N\tFalse\t{guests}\t{status[k]}\t{k + 1}\t"
                f"{code_of(rid)}\t{local_stamp(promoted[k]) if promoted[k] else null}\t"
                f"{local_stamp(withdrawn[k]) if withdrawn[k] else null}\t"
                f"{local_stamp(checked) if checked else null}\t{by or null}\t{no_show}\t\\N\t"
                f"{local_stamp(t)}\t{local_stamp(updated)}")
        seq = count
        if past and random_() < 0.25:  # walk-ins at the door who are not members
            for _ in range(randint(1, 3)):
                seq += 1
                rid = ids("event_registrations")
                t = starts + randint(0, 60)
                at = local_stamp(t)
                row("event_registrations", (
                    rid, cid, eid, None, chinese_name(rng, random_() < 0.6),
                    mobile_for(WALK_IN_BASE + rid) if random_() < 0.7 else None, True,
                    min(guests_max, int(random_() * 2)), "registered", seq, code_of(rid),
                    None, None, at, choice(staff), False, None, at, at))
        if len(reg_lines) >= batch:
            out.flush("event_registrations")
        for rid, mid in attendees:
            if random_() < 0.3:
                rating = choice(RATINGS)
                comment = None
                if random_() < 0.5:
                    comment = choice(FEEDBACK_GOOD if rating >= 4 else FEEDBACK_POOR)
                t = ends + randint(30, 3 * 1440)
                if t <= now:
                    row("event_feedback", (ids("event_feedback"), cid, eid, rid, mid, rating,
                                           comment, local_stamp(t)))
        status_text = "cancelled" if cancelled_at else "scheduled"
        row("events", (eid, cid, kind, title, title_en, EVENT_DESCRIPTIONS[kind], None,
                       local_stamp(starts), local_stamp(ends), place, capacity,
                       local_stamp(deadline), guests_max, 0, status_text,
                       choice(EVENT_CANCEL_REASONS) if cancelled_at else None, seq, None,
                       series_id, None, local_stamp(closed) if closed else None,
                       manager if series_id or random_() < 0.6 else choice(staff),
                       local_stamp(made), local_stamp(cancelled_at or closed or made)))


# ------------------------------------------------------------------------------ analytics

class _Capture:
    """An ``Out`` stand-in that keeps the rows of some tables (to replay a group)."""

    def __init__(self, tables) -> None:
        self.rows = {t: [] for t in tables}

    def row(self, table: str, values: tuple) -> None:
        if table in self.rows:
            self.rows[table].append(values)


def gen_dealer_history(frame: Frame, out: Out, rng: random.Random) -> None:
    """Each dealer's periods with full after-sales function (``dealer_after_sales_periods``),
    as the org service keeps them: the dealer's period, its last day + 1 as the end.

    The ``org`` group's dealers are replayed from its own random stream (same seed, same
    rows), so the ``org`` group itself stays as it was.
    """
    capture = _Capture(("dealers",))
    gen_org(dataclasses.replace(frame, dealer_ids=[], chapters=[], extra={}), capture,
            random.Random(f"{frame.seed}/org"))
    pid = 0
    for d, _code, _name, _region, _city, since, until, _closed, created in capture.rows["dealers"]:
        if since is None:
            continue
        pid += 1
        end = iso(date.fromisoformat(until).toordinal() + 1) if until else None
        out.row("dealer_after_sales_periods", (pid, d, since, end, created))


def dealer_history_topup(conn) -> dict[str, int]:
    """The same rows from the loaded dealers (a dataset made before this group)."""
    n = conn.execute(
        "INSERT INTO dealer_after_sales_periods (dealer_id, valid_from, valid_to, created_at) "
        "SELECT d.id, d.full_after_sales_since, d.full_after_sales_until + 1, d.created_at "
        "FROM dealers d WHERE d.full_after_sales_since IS NOT NULL AND NOT EXISTS ("
        "SELECT 1 FROM dealer_after_sales_periods p WHERE p.dealer_id = d.id)").rowcount
    conn.execute("SELECT setval(pg_get_serial_sequence('dealer_after_sales_periods', 'id'), "
                 "(SELECT coalesce(max(id), 0) + 1 FROM dealer_after_sales_periods), false)")
    conn.execute("VACUUM (ANALYZE) dealer_after_sales_periods")
    return {"dealer_after_sales_periods": n}


#: the table groups, in order; later issues append theirs
GROUPS: list[Group] = [
    Group("org", ("regions", "dealers", "chapters"), gen_org, national=True),
    Group("staff", ("users",), gen_staff, national=True),
    Group("owners", ("owners", "vehicles", "service_visits"), gen_owners, finish=owners_finish),
    Group("members", ("members", "member_identities", "member_status_periods",
                      "member_consents", "applications", "transfers"), gen_members),
    Group("leads", ("leads", "lead_notes"), gen_leads),
    Group("points_setup", ("point_rules", "partners", "perks"), gen_points_setup, national=True),
    Group("points", ("point_campaigns", "point_entries", "tier_changes", "vouchers"), gen_points,
          finish=points_finish),
    Group("dealer_history", ("dealer_after_sales_periods",), gen_dealer_history, national=True,
          topup=dealer_history_topup),
    Group("events", ("event_series", "events", "event_invitations", "event_registrations",
                     "event_feedback"), gen_events),
]


# ------------------------------------------------------------------------------ workers

def _worker(args) -> tuple[Counter, dict, float, int]:
    database_url, frame, worker, jobs = args
    chapter_tables = [t for g in GROUPS if not g.national for t in g.tables]
    out = Out(database_url, chapter_tables)
    ctx = Ctx(frame=frame, out=out, ids=Ids(worker, jobs))
    seconds: Counter = Counter()
    seal, sealed = 0.0, 0
    try:
        for ch in frame.chapters[worker::jobs]:
            state: dict = {"deferred": {}}
            for group in GROUPS:
                if group.national:
                    continue
                ctx.rng = random.Random(f"{frame.seed}/{group.name}/{ch.index}")
                t0 = time.perf_counter()
                group.fn(ctx, ch, state)
                seconds[group.name] += time.perf_counter() - t0
            for table, rows in state["deferred"].items():  # rows a later group completed
                for values in rows.values():
                    out.row(table, values)
            seal += state.get("seal_seconds", 0.0)
            sealed += state.get("sealed", 0)
        t0 = time.perf_counter()
        counts = out.close()
        seconds["final COPY flush"] += time.perf_counter() - t0
    except BaseException:
        out.abort()
        raise
    return counts, dict(seconds), seal, sealed


# ------------------------------------------------------------------------------ schema work

def _loaded_tables() -> list[str]:
    return [t for g in GROUPS for t in g.tables]


def _catalog(conn, tables: list[str]) -> dict:
    """The keys, foreign keys and secondary indexes of the loaded tables, as DDL."""
    regs = [f"public.{t}" for t in tables]
    cons = conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.contype IN ('p', 'u', 'f') "
        "AND (c.conrelid = ANY(%s::regclass[]) OR c.confrelid = ANY(%s::regclass[]))",
        (regs, regs)).fetchall()
    idx = conn.execute(
        "SELECT i.indrelid::regclass::text, ic.relname, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
        "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))", (regs,)).fetchall()
    return {
        "fkeys": [(t, n, d) for t, n, k, d in cons if k == "f"],
        "keys": [(t, n, d) for t, n, k, d in cons if k in ("p", "u")],
        "indexes": [(t, n, d) for t, n, d in idx],
    }


def _drop(conn, catalog: dict) -> None:
    for table, name, _ in catalog["fkeys"]:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for _table, name, _ in catalog["indexes"]:
        conn.execute(f'DROP INDEX "{name}"')
    for table, name, _ in catalog["keys"]:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')


def _rebuild(database_url: str, catalog: dict, counts: Counter, jobs: int) -> Counter:
    """Keys and indexes (tables side by side, the biggest first), then foreign keys.

    Each foreign key is validated once, over whole tables. Returns the seconds spent
    per table (wall time of its own statements).
    """
    import psycopg

    seconds: Counter = Counter()
    per_table: dict[str, list[str]] = {}
    for t, n, d in catalog["keys"]:
        per_table.setdefault(t, []).append(f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}')
    for t, _n, d in catalog["indexes"]:
        per_table.setdefault(t, []).append(d)

    def build(table: str) -> None:
        with psycopg.connect(_conninfo(database_url), autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            t0 = time.perf_counter()
            for ddl in per_table[table]:
                conn.execute(ddl)
            seconds[table] += time.perf_counter() - t0

    order = sorted(per_table, key=lambda t: counts.get(t, 0), reverse=True)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(build, order))
    with psycopg.connect(_conninfo(database_url), autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        for t, n, d in catalog["fkeys"]:
            t0 = time.perf_counter()
            conn.execute(f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}')
            seconds[t] += time.perf_counter() - t0
    return seconds


def _is_empty(conn) -> bool:
    return conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    ).fetchone()[0] == 0


def ensure_database(database_url: str) -> None:
    """Create the database (as its user, on its host) if it does not exist."""
    import psycopg
    import sqlalchemy as sa

    url = sa.engine.make_url(database_url)
    admin = url.set(drivername="postgresql", database="postgres")
    try:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True,
                             connect_timeout=10) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (url.database,)).fetchone():
                conn.execute(f'CREATE DATABASE "{url.database}" TEMPLATE template0 '
                             "ENCODING 'UTF8'")
                print(f"created database {url.database}")
    except psycopg.OperationalError as exc:
        sys.exit(f"cannot reach PostgreSQL at {url.render_as_string()} ({exc})")


@contextlib.contextmanager
def app_for(database_url: str):
    """An app context of ``create_app(Config())`` on the database (env DATABASE_URL set)."""
    os.environ.setdefault("INSTANCE_DIR", str(OUT / "instance"))
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = database_url
    try:
        from clubplatform.app import create_app
        from clubplatform.config import Config

        app = create_app(Config())
    finally:
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
    with app.app_context():
        try:
            yield app
        finally:
            from clubplatform.extensions import db

            db.session.remove()
            db.engine.dispose()


def _key_check(ring) -> str:
    from clubplatform.crypto import blind_index

    return blind_index("datagen key check", ring)[:16]


# ------------------------------------------------------------------------------ entry points

def generate(database_url: str, scale: float = 1.0, seed: int = DEFAULT_SEED, *,
             reset: bool = False, jobs: int | None = None, today: date | None = None,
             quiet: bool = False) -> dict[str, int]:
    """Build the dataset into an empty database (``reset`` empties it first).

    Returns the row count of every loaded table.
    """
    import psycopg

    say = (lambda *a: None) if quiet else print
    jobs = jobs or os.cpu_count() or 2
    began = time.perf_counter()
    ensure_database(database_url)
    conninfo = _conninfo(database_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if not _is_empty(conn):
            if not reset:
                raise RuntimeError("the database is not empty: pass reset=True (--reset) to "
                                   "drop its public schema and build it again")
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    with app_for(database_url):
        from flask_migrate import upgrade

        from clubplatform import dates
        from clubplatform.auth.service import hash_password
        from clubplatform.crypto import keyring

        t0 = time.perf_counter()
        upgrade()
        say(f"schema (alembic upgrade): {time.perf_counter() - t0:.1f}s")
        ring = keyring()
        password_hash = hash_password(PASSWORD)
        today_ord = (today or dates.today()).toordinal()
    start = add_years(today_ord, -(MONTHS // 12))
    frame = Frame(scale=scale, seed=seed, today=today_ord, start=start, ring=ring,
                  password_hash=password_hash)
    tables = _loaded_tables()
    timings: dict[str, float] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (key text PRIMARY KEY, "
                     "value jsonb NOT NULL)")
        _mark(conn, {"state": "loading", "scale": scale, "seed": seed})
        catalog = _catalog(conn, tables)
        _drop(conn, catalog)
        # the owners' person-key triggers, once per COPY batch: owners_finish does it at once
        conn.execute("ALTER TABLE owners DISABLE TRIGGER USER")
    say(f"dropped {len(catalog['fkeys'])} foreign keys, {len(catalog['keys'])} keys and "
        f"{len(catalog['indexes'])} indexes of {len(tables)} tables")

    # national groups, here
    t0 = time.perf_counter()
    national = [t for g in GROUPS if g.national for t in g.tables]
    out = Out(database_url, national, sequential=True)
    for group in GROUPS:
        if group.national:
            group.fn(frame, out, random.Random(f"{seed}/{group.name}"))
    counts = Counter(out.close())
    timings["national groups (" + ", ".join(g.name for g in GROUPS if g.national) + ")"] = (
        time.perf_counter() - t0)
    planned = sum(c.owners for c in frame.chapters)
    say(f"{len(frame.dealer_ids):,} dealers, {len(frame.chapters):,} chapters; owners per "
        f"chapter {min(c.owners for c in frame.chapters):,}..{max(c.owners for c in frame.chapters):,} "
        f"(median {sorted(c.owners for c in frame.chapters)[len(frame.chapters) // 2]:,}), "
        f"{planned:,} in all; {jobs} worker process(es)")

    # chapter groups, in worker processes
    t0 = time.perf_counter()
    work = [(database_url, frame, w, jobs) for w in range(jobs)]
    if jobs == 1:
        results = [_worker(work[0])]
    else:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_worker, work)
    group_cpu: Counter = Counter()
    seal, sealed = 0.0, 0
    for c, secs, s, n in results:
        counts.update(c)
        group_cpu.update(secs)
        seal += s
        sealed += n
    timings["generate + COPY (chapter groups)"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    build = _rebuild(database_url, catalog, counts, jobs)
    timings["keys, indexes, foreign keys"] = time.perf_counter() - t0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for group in GROUPS:
            if group.finish is not None:
                group.finish(conn)
        for table in tables:
            if "id" in COLUMNS[table]:  # the sequences continue after the data
                conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")
        t0 = time.perf_counter()
        vacuum: Counter = Counter()
        for table in tables:
            t1 = time.perf_counter()
            conn.execute(f"VACUUM (ANALYZE) {table}")
            vacuum[table] = time.perf_counter() - t1
        timings["VACUUM ANALYZE"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _check_sample(database_url, ring)
    timings["sample re-validated"] = time.perf_counter() - t0
    summary = {
        "state": "done", "scale": scale, "seed": seed, "today": iso(today_ord),
        "counts": dict(counts), "key_check": _key_check(ring), "dealer_prefix": DEALER_PREFIX,
        "jobs": jobs, "seconds": round(time.perf_counter() - began, 1),
        "build": {t: round(build[t], 1) for t in tables},
        "vacuum": {t: round(vacuum[t], 1) for t in tables},
        "groups": [[k, round(v, 1)] for k, v in group_cpu.items()],  # lists keep the order
        "sealed": sealed, "seal_seconds": round(seal, 1),
        "timings": [[k, round(v, 1)] for k, v in timings.items()],
    }
    with psycopg.connect(conninfo, autocommit=True) as conn:
        _mark(conn, summary)
    if not quiet:
        print_summary(summary)
    return dict(counts)


def _pairs(value) -> list:
    return list(value.items()) if isinstance(value, dict) else list(value or [])


def print_summary(info: dict) -> None:
    """Print a dataset's row counts and how long each part took to make."""
    counts, build, vacuum = info["counts"], info.get("build", {}), info.get("vacuum", {})
    print(f"\ndataset: scale {info['scale']}, seed {info['seed']}, data up to {info['today']}, "
          f"{info.get('jobs')} worker process(es)")
    print(f"{'table':<24}{'rows':>12}{'keys+indexes':>14}{'vacuum+analyze':>16}")
    for table in _loaded_tables():
        print(f"{table:<24}{counts.get(table, 0):>12,}{build.get(table, 0):>13.1f}s"
              f"{vacuum.get(table, 0):>15.1f}s")
    print(f"{'total':<24}{sum(counts.values()):>12,}")
    print("chapter groups, generation + COPY time summed over the workers:")
    for name, secs in _pairs(info.get("groups")):
        print(f"  {name:<20}{secs:>8.1f}s")
    sealed = info.get("sealed") or 0
    if sealed:
        print(f"  of which sealing {sealed:,} ID numbers (encrypt + blind index + mask): "
              f"{info['seal_seconds']:.1f}s, {info['seal_seconds'] / sealed * 1e6:.1f} µs each")
    for label, secs in _pairs(info.get("timings")):
        print(f"{label:<36}{secs:>8.1f}s")
    print(f"{'total':<36}{info['seconds']:>8.1f}s")


def _mark(conn, value: dict) -> None:
    conn.execute(f"INSERT INTO {MARKER_TABLE} (key, value) VALUES ('dataset', %s) "
                 "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                 (json.dumps(value),))


def dataset_info(database_url: str) -> dict | None:
    """The marker of the dataset in the database (None if there is none)."""
    import psycopg

    try:
        with psycopg.connect(_conninfo(database_url), connect_timeout=10) as conn:
            if conn.execute("SELECT to_regclass(%s)", (MARKER_TABLE,)).fetchone()[0] is None:
                return None
            row = conn.execute(f"SELECT value FROM {MARKER_TABLE} WHERE key = 'dataset'"
                               ).fetchone()
            return row[0] if row else None
    except psycopg.OperationalError:
        return None


def dataset_matches(database_url: str, scale: float, seed: int) -> tuple[bool, str]:
    """Whether the database holds this dataset, complete, with the same keys and row counts."""
    import psycopg

    info = dataset_info(database_url)
    if not info:
        return False, "no dataset"
    if info.get("state") != "done":
        return False, f"dataset state is {info.get('state')!r}"
    if info.get("scale") != scale or info.get("seed") != seed:
        return False, f"dataset is scale {info.get('scale')} seed {info.get('seed')}"
    with app_for(database_url):
        from clubplatform.crypto import keyring
        from clubplatform.extensions import db

        if info.get("key_check") != _key_check(keyring()):
            return False, "dataset was sealed with other keys (INSTANCE_DIR differs)"
        expected = {str(ix.name) for t in _loaded_tables() if t in info.get("counts", {})
                    for ix in db.metadata.tables[t].indexes}
    counts = info.get("counts", {})
    toppable = {t for g in GROUPS if g.topup is not None for t in g.tables}
    missing = [t for t in _loaded_tables() if t not in counts and t not in toppable]
    if missing:
        return False, f"the dataset has no {', '.join(missing)} (made before that group)"
    with psycopg.connect(_conninfo(database_url)) as conn:
        present = {n for (n,) in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
        if expected - present:
            return False, ("the model has indexes the database lacks: "
                           + ", ".join(sorted(expected - present)))
        mine = ("SELECT c.id FROM chapters c JOIN dealers d ON d.id = c.dealer_id "
                "WHERE d.code LIKE %s")
        for table in ("owners", "vehicles", "members", "service_visits"):
            n = conn.execute(f"SELECT count(*) FROM {table} WHERE chapter_id IN ({mine})",
                             (DEALER_PREFIX + "%",)).fetchone()[0]
            if n != counts.get(table):
                return False, f"{table}: {n:,} rows, the dataset made {counts.get(table)}"
        # the ledger of the dataset's chapters (the demo loader may add its own)
        n = conn.execute(f"SELECT count(*) FROM point_entries WHERE chapter_id IN ({mine})",
                         (DEALER_PREFIX + "%",)).fetchone()[0]
        if n != counts.get("point_entries"):
            return False, f"point_entries: {n:,} rows, the dataset made {counts['point_entries']}"
    return True, (f"scale {scale}, seed {seed}, made {info.get('today')} in "
                  f"{info.get('seconds')}s")


def ensure_dataset(database_url: str, scale: float = 1.0, seed: int = DEFAULT_SEED,
                   **kwargs) -> dict[str, int]:
    """Reuse the dataset if the database holds it (row counts match), else build it."""
    ok, why = dataset_matches(database_url, scale, seed)
    if ok:
        _topup(database_url)
        info = dataset_info(database_url)
        print(f"reusing the dataset in the database: {why}")
        print_summary(info)
        return info["counts"]
    print(f"building the dataset ({why})")
    return generate(database_url, scale, seed, reset=True, **kwargs)


def _topup(database_url: str) -> None:
    """Fill the tables of groups added after the dataset was made (those with a topup)."""
    import psycopg

    info = dataset_info(database_url) or {}
    counts = dict(info.get("counts", {}))
    todo = [g for g in GROUPS if g.topup is not None and any(t not in counts for t in g.tables)]
    if not todo:
        return
    with psycopg.connect(_conninfo(database_url), autocommit=True) as conn:
        for group in todo:
            absent = [t for t in group.tables if conn.execute(
                "SELECT to_regclass(%s)", (f"public.{t}",)).fetchone()[0] is None]
            if absent:
                print(f"the database has no {', '.join(absent)} (its schema predates them): "
                      f"rebuild the dataset (--reset) for the {group.name} group")
                continue
            added = group.topup(conn)
            counts.update(added)
            print(f"topped up the dataset with the {group.name} group: "
                  + ", ".join(f"{t} {n:,}" for t, n in added.items()))
        info["counts"] = counts
        _mark(conn, info)


def _check_sample(database_url: str, ring, n: int = 2000) -> None:
    """Re-validate a sample of generated values with the application's own functions."""
    import psycopg

    from clubplatform.crypto import blind_index, decrypt
    from clubplatform.validators import validate_id_number, validate_mobile, validate_vin

    with psycopg.connect(_conninfo(database_url)) as conn:
        for (mobile,) in conn.execute("SELECT mobile FROM owners WHERE mobile IS NOT NULL "
                                      "ORDER BY id LIMIT %s", (n,)):
            validate_mobile(mobile)
        for (vin,) in conn.execute("SELECT vin FROM vehicles ORDER BY id LIMIT %s", (n,)):
            validate_vin(vin)
        for enc, digest, birthday in conn.execute(
                "SELECT id_number_enc, id_number_digest, birthday FROM owners "
                "WHERE id_number_enc IS NOT NULL ORDER BY id LIMIT %s", (n,)):
            id_number = validate_id_number(decrypt(enc, ring))
            if blind_index(id_number, ring) != digest or id_number[6:14] != f"{birthday:%Y%m%d}":
                raise AssertionError(f"ID number, digest and birthday disagree ({digest})")
        bad = conn.execute(
            "SELECT count(*) FROM service_visits s JOIN vehicles v ON v.chapter_id = s.chapter_id "
            "AND v.id = s.vehicle_id WHERE s.visit_date < v.delivery_date").fetchone()[0]
        if bad:
            raise AssertionError(f"{bad} visits before their car's delivery")
        # the ledger: each balance is the sum of the member's entries, never negative, and
        # no member's running sum dips below zero (a sample of members, in id order)
        bad = conn.execute(
            "SELECT count(*) FROM members m LEFT JOIN (SELECT member_id, sum(points) AS s "
            "FROM point_entries GROUP BY member_id) e ON e.member_id = m.id "
            "WHERE m.points_balance <> coalesce(e.s, 0) OR m.points_balance < 0").fetchone()[0]
        if bad:
            raise AssertionError(f"{bad} members whose balance is not the sum of their entries")
        bad = conn.execute(
            "SELECT count(*) FROM (SELECT sum(points) OVER (PARTITION BY member_id ORDER BY id) "
            "AS running FROM point_entries WHERE member_id % 50 = 7) r WHERE running < 0"
        ).fetchone()[0]
        if bad:
            raise AssertionError(f"{bad} ledger entries after which a balance was negative")
        # the events: arrival numbers 1…n on each event with its counter at n, the members'
        # seats within capacity (walk-ins aside), codes in the codes' alphabet, feedback only
        # from attendees
        bad = conn.execute(
            "SELECT count(*) FROM events e LEFT JOIN (SELECT chapter_id, event_id, count(*) AS n, "
            "count(DISTINCT seq) AS d, min(seq) AS low, max(seq) AS top, sum(1 + guests) FILTER "
            "(WHERE status = 'registered' AND NOT walk_in) AS seats, count(*) FILTER (WHERE "
            "code !~ '^[A-HJ-NP-Z2-9]{16}$') AS odd FROM event_registrations GROUP BY 1, 2) r "
            "ON r.chapter_id = e.chapter_id AND r.event_id = e.id WHERE e.rsvp_seq <> "
            "coalesce(r.top, 0) OR r.n <> r.d OR r.n <> r.top OR r.low < 1 "
            "OR r.seats > e.capacity OR r.odd > 0").fetchone()[0]
        if bad:
            raise AssertionError(f"{bad} events whose registrations disagree with them")
        bad = conn.execute(
            "SELECT count(*) FROM event_feedback f JOIN event_registrations r ON r.chapter_id = "
            "f.chapter_id AND r.id = f.registration_id WHERE r.checked_in_at IS NULL "
            "OR r.event_id <> f.event_id OR r.member_id IS DISTINCT FROM f.member_id").fetchone()[0]
        if bad:
            raise AssertionError(f"{bad} feedback rows from members who did not attend")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1 = national size (default); 0.01 for a quick run")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--reset", action="store_true",
                        help="drop the database's public schema first (it must be empty otherwise)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the dataset if the database holds it (same scale, seed, keys, "
                             "indexes and row counts), else build it (with --reset)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes (default: the core count)")
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the business date the data ends on (default: today)")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        sys.exit("datagen needs PostgreSQL (COPY): pass --database-url postgresql+psycopg://…")
    if args.reuse:
        ensure_dataset(args.database_url, args.scale, args.seed, jobs=args.jobs, today=args.today)
    else:
        generate(args.database_url, args.scale, args.seed, reset=args.reset, jobs=args.jobs,
                 today=args.today)
    return 0


if __name__ == "__main__":
    sys.exit(main())
