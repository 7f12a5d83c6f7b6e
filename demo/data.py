"""The demo county's fixed facts: names, schools, alliances, people and events.

Modelled on seed 000 (../shared/seeds/000_*.txt): 衡南县 binds its schools into 11 paired
alliances (结对式校联体), a lead school helping its member schools on teaching, staffing and
funds. The article names three pairs (三塘 → 茅市/岐山, 云集 → 茶市/相市, 向阳桥 → 松江/近尾洲)
and the funded schools (衡南一中、衡南三中、衡南九中、衡南一中云集校区初中部 and 23 township
union schools, 200,000 CNY each a year, 70/30); the other eight pairs are drawn from the
county's towns. Named people and events of the article (华朝霞's 支教 and 师徒结对, 阳小勇's
挂职, 倪燕华's 跟岗, 明德小学's 调研座谈 and donations) appear with their own names, as do seed
002's 810/638/54 shared resources; everyone else is drawn from the generators in the parts with
a fixed seed. The other kinds of alliance are the further demo counties' (白河县's education
communities, 荷塘区's education groups, 天心区's trusteeships, groups, area alliance and
cross-region pairing) and the cross-county programme's (长沙市开福区).

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
    # Seed 000: the county funds 衡南一中、衡南三中、衡南九中、衡南一中云集校区初中部 and 23
    # township union schools (乡镇联合学校), 27 schools in 11 paired alliances; by alliance.
    SchoolFact("HN001", "三塘联合学校", "nine_year", "township", "strong", 14),
    SchoolFact("HN002", "茅市联合学校", "nine_year", "rural", "weak", 10),
    SchoolFact("HN003", "岐山联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN004", "云集联合学校", "nine_year", "urban", "strong", 16),
    SchoolFact("HN005", "茶市联合学校", "nine_year", "rural", "weak", 10),
    SchoolFact("HN006", "相市联合学校", "nine_year", "rural", "weak", 10),
    SchoolFact("HN007", "向阳桥联合学校", "nine_year", "township", "strong", 13),
    SchoolFact("HN008", "松江联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN009", "近尾洲联合学校", "nine_year", "rural", "weak", 8),
    SchoolFact("HN010", "衡南县第一中学", "senior", "urban", "strong", 16),
    SchoolFact("HN011", "川口联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN012", "栗江联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN013", "衡南县第三中学", "complete", "township", "strong", 14),
    SchoolFact("HN014", "廖田联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN015", "衡南县第九中学", "complete", "township", "strong", 13),
    SchoolFact("HN016", "鸡笼联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN017", "衡南一中云集校区初中部", "junior", "urban", "strong", 14),
    SchoolFact("HN018", "硫市联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN019", "江口联合学校", "nine_year", "rural", "weak", 8),
    SchoolFact("HN020", "铁丝塘联合学校", "nine_year", "township", "strong", 13),
    SchoolFact("HN021", "洪山联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN022", "泉溪联合学校", "nine_year", "township", "strong", 13),
    SchoolFact("HN023", "花桥联合学校", "nine_year", "rural", "weak", 8),
    SchoolFact("HN024", "谭子山联合学校", "nine_year", "township", "strong", 13),
    SchoolFact("HN025", "冠市联合学校", "nine_year", "rural", "weak", 9),
    SchoolFact("HN026", "宝盖联合学校", "nine_year", "township", "strong", 12),
    # moved into its new campus this year (新建校)
    SchoolFact("HN027", "洲市联合学校", "nine_year", "township", "new", 10),
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


# The article names the first three pairs; the other eight pair the county's three senior
# schools, 衡南一中云集校区初中部 and four strong union schools with weaker ones nearby
# (优质校+薄弱校, 城区校+农村校, across stages: 跨学段纵向联通).
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
        "衡南一中—川口—栗江结对式校联体",
        "paired",
        "HN010",
        ("HN011", "HN012"),
        dt.date(2025, 9, 26),
        ("teaching_research", "teachers", "funds"),
        "跨学段结对:送教援培、教学开放日、“互联网+”同步课堂。",
    ),
    AllianceFact(
        "衡南三中—廖田结对式校联体",
        "paired",
        "HN013",
        ("HN014",),
        dt.date(2025, 9, 5),
        ("management", "teachers"),
        "衡南三中派驻副校长到廖田联合学校挂职,统一教学管理。",
    ),
    AllianceFact(
        "衡南九中—鸡笼结对式校联体",
        "paired",
        "HN015",
        ("HN016",),
        dt.date(2025, 9, 20),
        ("management", "teaching_research"),
        "衡南九中结对鸡笼联合学校:联片教研、统一命题、联合阅卷。",
    ),
    AllianceFact(
        "衡南一中云集校区初中部—硫市—江口结对式校联体",
        "paired",
        "HN017",
        ("HN018", "HN019"),
        dt.date(2025, 9, 15),
        ("management", "teaching_research", "teachers", "funds"),
        "初中部帮助成员校整理共享学科教案、课件和微课资源;青年教师跟岗学习。",
    ),
    AllianceFact(
        "铁丝塘—洪山结对式校联体",
        "paired",
        "HN020",
        ("HN021",),
        dt.date(2025, 9, 18),
        ("teaching_research", "teachers"),
        "铁丝塘联合学校结对洪山联合学校。",
    ),
    AllianceFact(
        "泉溪—花桥结对式校联体",
        "paired",
        "HN022",
        ("HN023",),
        dt.date(2025, 9, 18),
        ("teaching_research", "teachers", "funds"),
        "泉溪联合学校结对花桥联合学校。",
    ),
    AllianceFact(
        "谭子山—冠市结对式校联体",
        "paired",
        "HN024",
        ("HN025",),
        dt.date(2025, 9, 22),
        ("management", "teaching_research", "teachers"),
        "谭子山联合学校结对冠市联合学校。",
    ),
    AllianceFact(
        "宝盖—洲市结对式校联体",
        "paired",
        "HN026",
        ("HN027",),
        dt.date(2025, 9, 22),
        ("management", "teaching_research", "funds"),
        "宝盖联合学校结对新建的洲市联合学校,帮助完善制度建设与课程设置。",
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

# (username, role, last name, first name, school code or None, assessed school codes)
UserSpec = tuple[str, str, str, str, str | None, tuple[str, ...]]
# Demo users: one per role (publishing needs a second bureau user).
USERS: tuple[UserSpec, ...] = (
    ("demo-bureau", "bureau_staff", "刘", "华军", None, ()),
    ("demo-bureau2", "bureau_staff", "蒋", "媛竹", None, ()),
    ("demo-lead", "lead_principal", "刘", "吉军", "HN004", ()),
    ("demo-member", "member_principal", "陈", "庆喜", "HN002", ()),
    ("demo-assessor", "assessor", "刘", "影", None, ("HN004", "HN005", "HN006", "HN010", "HN011", "HN012")),
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
    # 明德小学 is a school of 云集联合学校; 海会小学 and 拔萃小学 are its members' schools.
    ActivityFact(
        "visit",
        dt.date(2025, 11, 1),
        "HN004",
        ("HN004", "HN005", "HN006"),
        "明德小学赴海会小学、拔萃小学调研座谈",
        "党支部书记王玉员、校长王芳及行政团队",
        14,
        "询问需求:教室、宿舍未装风扇,学生过冬衣被急需添置。",
    ),
    ActivityFact(
        "donation",
        dt.date(2025, 11, 12),
        "HN004",
        ("HN004", "HN005", "HN006"),
        "为海会小学、拔萃小学添置风扇和过冬衣被",
        "明德小学全体教师",
        48,
        "根据调研座谈的需求为两校添置物资。",
        {"goods_description": "吊扇、过冬棉被", "goods_count": 180, "goods_value": Decimal("38600.00")},
    ),
    ActivityFact(
        "donation",
        dt.date(2025, 11, 20),
        "HN004",
        ("HN005", "HN006"),
        "明德小学为贫困学子捐资助学",
        "明德小学教职工",
        62,
        "为两校贫困学子捐资助学。",
        {"donation_amount": Decimal("24000.00")},
    ),
    ActivityFact(
        "culture_sports",
        dt.date(2025, 12, 31),
        "HN004",
        ("HN004", "HN005", "HN006"),
        "元旦联欢:海会、拔萃学生到明德小学欢度佳节",
        "三校师生",
        320,
        "把成员校学生接到明德小学欢度元旦,感受温暖浓厚的节日氛围。",
    ),
    ActivityFact(
        "resource_sharing",
        dt.date(2025, 12, 10),
        "HN017",
        ("HN017", "HN018", "HN019"),
        "整理共享学科教案、课件和微课资源",
        "初中部各学科教研组",
        45,
        "帮助成员校整理学科教案810个、课件638个、微课资源54个。",
        {"resource_count": 1502},
    ),
    ActivityFact(
        "online_lesson",
        dt.date(2025, 10, 15),
        "HN010",
        ("HN010", "HN011"),
        "“互联网+”5G同步课堂:与川口联合学校同上一堂课",
        "衡南一中语文组、川口联合学校九年级学生",
        96,
        "两校同上一堂课、共享好老师。",
    ),
    ActivityFact(
        "donation",
        dt.date(2025, 12, 2),
        "HN010",
        ("HN011",),
        "“手拉手·图书捐赠”爱心活动",
        "衡南一中团委、学生会",
        150,
        "为川口联合学校捐赠图书,改善图书配备。",
        {"goods_description": "图书", "goods_count": 5600, "goods_value": Decimal("112000.00")},
    ),
    ActivityFact(
        "training",
        dt.date(2025, 11, 8),
        "HN013",
        ("HN013", "HN014"),
        "结对校骨干教师培训班",
        "两校骨干教师、青年教师",
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
