"""The demo county's fixed facts: names, schools, alliances, people and events.

Modelled on the source articles in ../shared/seeds/: the paired alliances of 衡南县 (seed 000:
三塘 → 茅市/岐山, 云集 → 茶市/相市, 向阳桥 → 松江/近尾洲, 200,000 CNY per school, 70/30),
close-knit education communities (seed 003), an education group and trusteeships (seeds 001,
004), an area alliance and a cross-region pairing (seed 002). Named people and events of the
articles (华朝霞's 支教 and 师徒结对, 阳小勇's 挂职, 倪燕华's 跟岗, 明德小学's 调研座谈 and
donations, 810/638/54 shared resources) appear with their own names; everyone else is drawn
from the generator in ``demo.plan`` with a fixed seed.

Everything here is plain data so that a second run of ``load_demo`` meets the same natural keys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

SEED = 20250901
# The published demo password (README, `load_demo --logins`); demo users only.
PASSWORD = "demo-2025"  # noqa: S105

COUNTY = {"code": "430422", "name": "衡南县", "province": "湖南省"}

START_YEAR = 2025
YEAR_START = dt.date(2025, 9, 1)
YEAR_END = dt.date(2026, 7, 15)
TERMS = {
    1: (dt.date(2025, 9, 1), dt.date(2026, 1, 20)),
    2: (dt.date(2026, 2, 23), dt.date(2026, 7, 15)),
}
# The exchanges of "a term" of the demo: the first term, as its postings are actually taught.
TERM_TEACHING = (dt.date(2025, 9, 1), dt.date(2026, 1, 16))

BASE_QUOTA = Decimal("200000.00")
LEAD_SHARE = Decimal("0.70")
POOL_SHARE = Decimal("0.30")


@dataclass(frozen=True)
class SchoolFact:
    code: str
    name: str
    stage: str  # alliance.School.Stage values
    location: str  # urban / township / rural
    strength: str  # strong / weak / new
    staff: int  # teachers in the registry (the demo's whole teaching staff)


# Pupils per teacher and per class by location: small rural schools, fuller town schools.
PUPILS_PER_TEACHER = {"urban": 17, "township": 14, "rural": 11}
PUPILS_PER_CLASS = {"urban": 45, "township": 40, "rural": 28}

SCHOOLS: tuple[SchoolFact, ...] = (
    # 结对式校联体 (seed 000)
    SchoolFact("HN001", "三塘联合学校", "nine_year", "township", "strong", 14),
    SchoolFact("HN002", "茅市联合学校", "nine_year", "rural", "weak", 10),
    SchoolFact("HN003", "岐山联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN004", "云集联合学校", "nine_year", "urban", "strong", 16),
    SchoolFact("HN005", "茶市联合学校", "nine_year", "rural", "weak", 10),
    SchoolFact("HN006", "相市联合学校", "nine_year", "rural", "weak", 10),
    SchoolFact("HN007", "向阳桥联合学校", "nine_year", "township", "strong", 13),
    SchoolFact("HN008", "松江联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN009", "近尾洲联合学校", "nine_year", "rural", "weak", 8),
    # 紧密型教共体 (seed 003: 规模相宜、学段相同、距离相近、强弱搭配)
    SchoolFact("HN010", "衡南县云集中学", "junior", "urban", "strong", 14),
    SchoolFact("HN011", "车江中学", "junior", "township", "weak", 9),
    SchoolFact("HN012", "泉溪中学", "junior", "rural", "weak", 8),
    SchoolFact("HN013", "洪山中学", "junior", "rural", "weak", 8),
    SchoolFact("HN014", "衡南县实验小学", "primary", "urban", "strong", 15),
    SchoolFact("HN015", "谭子山中心小学", "primary", "township", "weak", 9),
    SchoolFact("HN016", "宝盖中心小学", "primary", "rural", "weak", 8),
    SchoolFact("HN017", "花桥小学", "primary", "rural", "weak", 7),
    # 教育集团 (seeds 001, 004: a famous school leads weak and new schools)
    SchoolFact("HN018", "明德小学", "primary", "urban", "strong", 14),
    SchoolFact("HN019", "海会小学", "primary", "rural", "weak", 7),
    SchoolFact("HN020", "拔萃小学", "primary", "rural", "weak", 7),
    SchoolFact("HN021", "云集新城小学", "primary", "urban", "new", 8),
    # 托管 (seed 001: a famous school runs a junior school)
    SchoolFact("HN022", "衡南一中云集校区初中部", "junior", "urban", "strong", 13),
    SchoolFact("HN023", "硫市中学", "junior", "rural", "weak", 8),
    SchoolFact("HN024", "衡南县第三中学", "complete", "township", "strong", 13),
    SchoolFact("HN025", "廖田学校", "nine_year", "rural", "weak", 8),
    # 片区联盟
    SchoolFact("HN026", "衡南县第九中学", "complete", "township", "strong", 12),
    SchoolFact("HN027", "鸡笼联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN028", "江口联合学校", "nine_year", "rural", "weak", 8),
    # 跨区域结对 (seed 002: across townships and stages)
    SchoolFact("HN029", "衡南县第一中学", "senior", "urban", "strong", 15),
    SchoolFact("HN030", "川口中学", "complete", "rural", "weak", 9),
)


@dataclass(frozen=True)
class AllianceFact:
    name: str
    kind: str  # alliance.Alliance.Kind values
    lead: str
    members: tuple[str, ...]
    agreement: dt.date
    focus: tuple[str, ...]
    description: str


ALLIANCES: tuple[AllianceFact, ...] = (
    AllianceFact(
        "三塘—茅市—岐山结对式校联体",
        "paired",
        "HN001",
        ("HN002", "HN003"),
        dt.date(2025, 10, 18),
        ("management", "teaching_research", "teachers", "funds"),
        "三塘联合学校结对茅市联合学校、岐山联合学校;星火小学教导主任赴茅市中心小学挂职副校长。",
    ),
    AllianceFact(
        "云集—茶市—相市结对式校联体",
        "paired",
        "HN004",
        ("HN005", "HN006"),
        dt.date(2025, 10, 25),
        ("management", "teaching_research", "teachers"),
        "10月25日结对帮扶仪式启动;茶市支教团、相市支教团定期、定人、定科目开展学科支教。",
    ),
    AllianceFact(
        "向阳桥—松江—近尾洲结对式校联体",
        "paired",
        "HN007",
        ("HN008", "HN009"),
        dt.date(2025, 10, 20),
        ("teaching_research", "teachers", "funds"),
        "向阳桥联合学校结对松江联合学校、近尾洲联合学校。",
    ),
    AllianceFact(
        "云集中学紧密型教共体",
        "community",
        "HN010",
        ("HN011", "HN012", "HN013"),
        dt.date(2025, 9, 10),
        ("management", "teaching_research", "teachers", "funds"),
        "核心校校长任教共体总校长;课程设置、教学管理、质量检测“八个统一”;以轮岗为主、走教为辅、智教为补。",
    ),
    AllianceFact(
        "实验小学紧密型教共体",
        "community",
        "HN014",
        ("HN015", "HN016", "HN017"),
        dt.date(2025, 9, 10),
        ("management", "teaching_research", "teachers"),
        "“养正”文化共建;成员校公用经费统一预算到核心校;青蓝结对、送课到校。",
    ),
    AllianceFact(
        "明德小学教育集团",
        "group",
        "HN018",
        ("HN019", "HN020", "HN021"),
        dt.date(2025, 9, 15),
        ("management", "teaching_research", "teachers", "funds"),
        "以明德小学为龙头校,薄弱校、新建校为成员校,统一集团文化建设,师资交流到位、优质资源共享。",
    ),
    AllianceFact(
        "衡南一中云集校区初中部托管硫市中学",
        "trusteeship",
        "HN022",
        ("HN023",),
        dt.date(2025, 9, 5),
        ("management", "teaching_research", "teachers"),
        "名校派驻副校长托管硫市中学。",
    ),
    AllianceFact(
        "衡南三中托管廖田学校",
        "trusteeship",
        "HN024",
        ("HN025",),
        dt.date(2025, 9, 5),
        ("management", "teachers"),
        "衡南三中派驻执行校长,统一教学管理。",
    ),
    AllianceFact(
        "西部片区联盟",
        "area",
        "HN026",
        ("HN027", "HN028"),
        dt.date(2025, 9, 20),
        ("teaching_research", "teachers"),
        "片区内联片教研、统一命题、联合阅卷。",
    ),
    AllianceFact(
        "衡南一中—川口跨区域结对",
        "cross_region",
        "HN029",
        ("HN030",),
        dt.date(2025, 9, 26),
        ("teaching_research", "teachers"),
        "跨乡镇、跨学段结对:送教援培、教学开放日、“互联网+”同步课堂。",
    ),
)

# A pairing's task list (任务清单, seed 002: timetable, roadmap, responsible person).
# (title, month offset from the agreement, typical responsible role)
TASK_TEMPLATES: tuple[tuple[str, int, str], ...] = (
    ("签订结对帮扶协议并制定学年帮扶工作计划", 0, "校长"),
    ("每学期召开一次帮扶例会,到受援校“坐诊”", 1, "校长"),
    ("派出骨干教师定期、定人、定科目支教", 1, "教务主任"),
    ("成员校青年教师到牵头校跟岗学习", 2, "教务主任"),
    ("开展同课异构、集体备课等联合教研", 2, "教研组长"),
    ("共享教案、课件、微课等教学资源", 3, "信息技术组长"),
    ("开展学生需求调研座谈,添置过冬衣被等物资", 1, "德育主任"),
    ("资助贫困学子、激励优秀学子", 3, "总务主任"),
    ("新增陶笛、足球、田径等特色社团", 4, "少先队辅导员"),
    ("期末质量检测统一命题、联合阅卷", 3, "教务主任"),
    ("第二学期帮扶工作计划与中期总结", 5, "校长"),
    ("学年帮扶工作总结与成效评估", 8, "校长"),
)

# Subjects of the registry by stage, with weights (a school's staff is drawn from these).
SUBJECTS_BY_STAGE: dict[str, tuple[tuple[str, int], ...]] = {
    "primary": (
        ("chinese", 6),
        ("math", 5),
        ("english", 2),
        ("science", 1),
        ("morality_law", 1),
        ("music", 1),
        ("pe", 1),
        ("art", 1),
        ("it", 1),
    ),
    "junior": (
        ("chinese", 4),
        ("math", 4),
        ("english", 3),
        ("physics", 2),
        ("chemistry", 1),
        ("biology", 1),
        ("history", 1),
        ("geography", 1),
        ("morality_law", 1),
        ("pe", 1),
        ("music", 1),
        ("art", 1),
    ),
    "senior": (
        ("chinese", 4),
        ("math", 4),
        ("english", 4),
        ("physics", 2),
        ("chemistry", 2),
        ("biology", 2),
        ("history", 1),
        ("geography", 1),
        ("morality_law", 1),
        ("pe", 1),
        ("it", 1),
    ),
}
SUBJECTS_BY_STAGE["nine_year"] = SUBJECTS_BY_STAGE["primary"] + (
    ("physics", 1),
    ("chemistry", 1),
    ("history", 1),
)
SUBJECTS_BY_STAGE["complete"] = SUBJECTS_BY_STAGE["junior"] + (("morality_law", 1),)

SURNAMES = "刘王李张陈杨周谭罗曾邓彭唐蒋肖贺廖谢颜胡何邹朱黄龚文阳夏倪潘汤宋段侯雷伍吴许袁旷尹易"
# Two-character surnames are kept whole.
COMPOUND_SURNAMES = ("欧阳",)
GIVEN_FEMALE = "芳丽娟敏静霞燕红玲婷洁慧佳琳雪梅兰莉萍颖倩晶娜琴艳蓉妍"
GIVEN_MALE = "伟强军勇杰涛明斌超辉刚健鹏磊峰俊华波锋平宇浩志国庆文"
GIVEN_ANY = "小晓海春秋新建子一思雨安嘉立永湘楚"

# Named people from seed 000 (school code, name, gender, subject, title, years, key teacher).
SEED_TEACHERS: tuple[tuple[str, str, str, str, str, int, bool], ...] = (
    ("HN001", "华朝霞", "female", "english", "senior", 22, True),
    ("HN001", "阳小勇", "male", "math", "senior", 18, True),
    ("HN002", "陈佳", "female", "english", "none", 2, False),
    ("HN002", "潘华林", "male", "chinese", "second", 3, False),
    ("HN004", "夏露菲", "female", "chinese", "senior", 19, True),
    ("HN004", "李海军", "male", "math", "senior", 21, True),
    ("HN006", "倪燕华", "female", "english", "second", 5, False),
)

# Demo users: one per role (publishing needs a second bureau user).
# (username, role, last name, first name, school code or None, assessed school codes)
USERS: tuple[tuple[str, str, str, str, str | None, tuple[str, ...]], ...] = (
    ("demo-bureau", "bureau_staff", "刘", "华军", None, ()),
    ("demo-bureau2", "bureau_staff", "蒋", "媛竹", None, ()),
    ("demo-lead", "lead_principal", "刘", "吉军", "HN004", ()),
    ("demo-member", "member_principal", "陈", "庆喜", "HN002", ()),
    ("demo-assessor", "assessor", "刘", "影", None, ("HN004", "HN005", "HN006", "HN018", "HN019", "HN020", "HN021")),
    ("demo-auditor", "auditor", "张", "黎黎", None, ()),
)


@dataclass(frozen=True)
class ActivityFact:
    kind: str
    date: dt.date
    host: str
    schools: tuple[str, ...]
    title: str
    participants: str
    person_times: int
    description: str = ""
    extra: dict = field(default_factory=dict)


# The articles' own events; the generator adds the routine ones of every alliance.
SEED_ACTIVITIES: tuple[ActivityFact, ...] = (
    ActivityFact(
        "term_meeting",
        dt.date(2025, 10, 25),
        "HN004",
        ("HN004", "HN005", "HN006"),
        "云集、茶市、相市结对帮扶启动仪式",
        "三校校长、支教团负责人",
        36,
        "三校校长签订结对帮扶协议,将在学校管理、师资建设、教学研究等方面扎实开展活动,不做表面,按需执行。",
    ),
    ActivityFact(
        "visit",
        dt.date(2025, 11, 1),
        "HN018",
        ("HN018", "HN019", "HN020"),
        "明德小学赴海会小学、拔萃小学调研座谈",
        "党支部书记王玉员、校长王芳及行政团队",
        14,
        "询问需求:教室、宿舍未装风扇,学生过冬衣被急需添置。",
    ),
    ActivityFact(
        "donation",
        dt.date(2025, 11, 12),
        "HN018",
        ("HN018", "HN019", "HN020"),
        "为海会小学、拔萃小学添置风扇和过冬衣被",
        "明德小学全体教师",
        48,
        "根据调研座谈的需求为两校添置物资。",
        {"goods_description": "吊扇、过冬棉被", "goods_count": 180, "goods_value": Decimal("38600.00")},
    ),
    ActivityFact(
        "donation",
        dt.date(2025, 11, 20),
        "HN018",
        ("HN019", "HN020"),
        "明德小学为贫困学子捐资助学",
        "明德小学教职工",
        62,
        "为两校贫困学子捐资助学。",
        {"donation_amount": Decimal("24000.00")},
    ),
    ActivityFact(
        "culture_sports",
        dt.date(2025, 12, 31),
        "HN018",
        ("HN018", "HN019", "HN020"),
        "元旦联欢:海会、拔萃学生到明德小学欢度佳节",
        "三校师生",
        320,
        "把成员校学生接到明德小学欢度元旦,感受温暖浓厚的节日氛围。",
    ),
    ActivityFact(
        "resource_sharing",
        dt.date(2025, 12, 10),
        "HN014",
        ("HN014", "HN015", "HN016", "HN017"),
        "整理共享学科教案、课件和微课资源",
        "实验小学各学科教研组",
        45,
        "帮助成员校整理学科教案810个、课件638个、微课资源54个。",
        {"resource_count": 1502},
    ),
    ActivityFact(
        "online_lesson",
        dt.date(2025, 10, 15),
        "HN029",
        ("HN029", "HN030"),
        "“互联网+”5G同步课堂:与川口中学同上一堂课",
        "衡南一中语文组、川口中学高一学生",
        96,
        "两校同上一堂课、共享好老师。",
    ),
    ActivityFact(
        "donation",
        dt.date(2025, 12, 2),
        "HN029",
        ("HN030",),
        "“手拉手·图书捐赠”爱心活动",
        "衡南一中团委、学生会",
        150,
        "为川口中学捐赠图书,改善图书配备。",
        {"goods_description": "图书", "goods_count": 5600, "goods_value": Decimal("112000.00")},
    ),
    ActivityFact(
        "training",
        dt.date(2025, 11, 8),
        "HN010",
        ("HN010", "HN011", "HN012", "HN013"),
        "教共体骨干教师培训班",
        "四校骨干教师、青年教师",
        86,
        "专家报告、名师讲座及现场教学。",
    ),
    ActivityFact(
        "culture_sports",
        dt.date(2025, 11, 28),
        "HN001",
        ("HN001", "HN002", "HN003"),
        "陶笛、足球、田径社团联谊展示",
        "三校社团学生及辅导教师",
        210,
        "茅市联合学校今年新增陶笛、足球、田径等3个社团,引入校外专业师资辅导学生。",
    ),
)

ACTIVITY_TITLES: dict[str, tuple[str, ...]] = {
    "teaching_research": ("同课异构:{subject}", "{subject}集体备课", "教学开放日:{subject}公开课", "作业分层设计研讨"),
    "training": ("新教师首站式培养", "班主任工作能力培训", "信息技术与学科融合培训"),
    "visit": ("牵头校赴{member}调研座谈",),
    "term_meeting": ("学期帮扶工作例会", "期中工作推进会"),
    "resource_sharing": ("共享{subject}学科教案与课件",),
    "culture_sports": ("校际艺术节", "联盟学校运动会", "读书节"),
    "online_lesson": ("智慧云课堂:{subject}名师课堂",),
    "supervision_visit": ("责任督学随访督导",),
    "quarterly_supervision_meeting": ("季度督导情况反馈点评会",),
}
