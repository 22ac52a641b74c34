"""Static data of the demo hot-pot chain: its stores and its menu.

The data is plain Python so the simulator needs no files at run time.
Prices are integer fen (CNY cents) so no float ever reaches an amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "CATEGORIES",
    "DemoItem",
    "DemoStore",
    "demo_menu",
    "demo_stores",
    "item_popularity",
    "store_popularity",
]


@dataclass(frozen=True, slots=True)
class DemoStore:
    """One restaurant of the demo chain."""

    code: str
    name: str
    city: str
    region: str
    timezone: str
    opened_on: date


@dataclass(frozen=True, slots=True)
class DemoItem:
    """One dish or drink on the demo menu; `price_cents` is in fen."""

    sku: str
    name: str
    name_zh: str
    category: str
    price_cents: int
    tags: frozenset[str]


CATEGORIES: tuple[str, ...] = (
    "broths",
    "meats",
    "seafood",
    "vegetables",
    "staples",
    "snacks",
    "drinks",
    "desserts",
    "kids",
)

# (code, name, city, region, opened_on, relative traffic). Shandong (Jinan,
# Qingdao) is East China in the official split; two stores open late so the
# demo history shows stores appearing part-way through.
_STORES: tuple[tuple[str, str, str, str, date, float], ...] = (
    ("BJ001", "Beijing Wangfujing", "Beijing", "North", date(2012, 5, 18), 1.4),
    ("BJ002", "Beijing Zhongguancun", "Beijing", "North", date(2014, 9, 1), 1.2),
    ("BJ003", "Beijing Sanlitun", "Beijing", "North", date(2017, 12, 8), 1.1),
    ("TJ001", "Tianjin Binjiang Road", "Tianjin", "North", date(2016, 4, 22), 0.8),
    ("SH001", "Shanghai Nanjing Road", "Shanghai", "East", date(2011, 10, 1), 1.4),
    ("SH002", "Shanghai Lujiazui", "Shanghai", "East", date(2015, 6, 12), 1.2),
    ("SH003", "Shanghai Xujiahui", "Shanghai", "East", date(2019, 3, 15), 1.0),
    ("HZ001", "Hangzhou West Lake Yintai", "Hangzhou", "East", date(2025, 9, 28), 0.7),
    ("JN001", "Jinan Quancheng Square", "Jinan", "East", date(2016, 8, 8), 0.8),
    ("JN002", "Jinan Hi-tech Zone", "Jinan", "East", date(2021, 1, 9), 0.6),
    ("QD001", "Qingdao May Fourth Square", "Qingdao", "East", date(2017, 7, 1), 0.8),
    ("QD002", "Qingdao Licang Wanda", "Qingdao", "East", date(2022, 11, 11), 0.5),
    ("CD001", "Chengdu Chunxi Road", "Chengdu", "Southwest", date(2013, 2, 2), 1.2),
    ("CD002", "Chengdu Kuanzhai Alley", "Chengdu", "Southwest", date(2018, 10, 20), 0.9),
    ("CQ001", "Chongqing Jiefangbei", "Chongqing", "Southwest", date(2015, 1, 16), 1.0),
    ("SZ001", "Shenzhen Futian CBD", "Shenzhen", "South", date(2014, 12, 12), 1.1),
    ("SZ002", "Shenzhen Nanshan Houhai", "Shenzhen", "South", date(2025, 6, 18), 0.7),
    ("GZ001", "Guangzhou Tianhe", "Guangzhou", "South", date(2016, 3, 3), 1.0),
)

# (sku, name, name_zh, category, price in yuan, tags, relative popularity).
# Tags are what tastes react to: spicy, tomato, mushroom, vegetarian,
# seafood, meat, premium, sweet, kids, alcohol, cold; plus the structural
# tags broth, sauce, water and noodles that service requirements attach to.
_MENU: tuple[tuple[str, str, str, str, int, str, float], ...] = (
    # broths
    ("BR001", "Spicy beef tallow broth", "麻辣牛油锅底", "broths", 58, "spicy broth", 1.0),
    ("BR002", "Tomato broth", "番茄锅底", "broths", 38, "tomato vegetarian broth", 1.0),
    ("BR003", "Wild mushroom broth", "菌汤锅底", "broths", 42, "mushroom vegetarian broth", 0.7),
    ("BR004", "Pork bone broth", "猪骨锅底", "broths", 36, "broth", 0.5),
    ("BR005", "Clear oil spicy broth", "清油麻辣锅底", "broths", 52, "spicy broth", 0.5),
    ("BR006", "Tomato/spicy split pot", "番茄鸳鸯锅", "broths", 68, "spicy tomato broth", 0.9),
    ("BR007", "Mushroom/spicy split pot", "菌汤鸳鸯锅", "broths", 68, "spicy mushroom broth", 0.5),
    ("BR008", "Four-grid pot", "四宫格", "broths", 88, "spicy tomato mushroom premium broth", 0.35),
    ("BR009", "Pickled cabbage fish broth", "酸菜鱼锅底", "broths", 48, "seafood broth", 0.3),
    ("BR010", "Golden chicken soup broth", "金汤鸡锅底", "broths", 48, "broth", 0.3),
    ("BR011", "Tom yum broth", "冬阴功锅底", "broths", 48, "spicy seafood broth", 0.2),
    ("BR012", "Clear water broth", "清汤锅底", "broths", 18, "vegetarian kids broth", 0.25),
    ("BR013", "Green pepper chicken broth", "藤椒鸡锅底", "broths", 52, "spicy broth", 0.2),
    ("BR014", "Curry broth", "咖喱锅底", "broths", 42, "broth", 0.2),
    ("BR015", "Silkie mushroom broth", "菌菇乌鸡锅", "broths", 58, "mushroom premium broth", 0.2),
    # meats
    ("MT001", "Premium fatty beef", "精品肥牛", "meats", 68, "meat premium", 1.0),
    ("MT002", "Hand-sliced lamb", "手切羊肉", "meats", 58, "meat", 0.7),
    ("MT003", "Lamb rolls", "羔羊肉卷", "meats", 48, "meat", 0.8),
    ("MT004", "Beef omasum", "牛百叶", "meats", 38, "meat", 0.5),
    ("MT005", "Fresh beef tripe", "鲜毛肚", "meats", 58, "meat spicy", 0.9),
    ("MT006", "Duck intestines", "鸭肠", "meats", 38, "meat spicy", 0.6),
    ("MT007", "Spicy marinated beef", "麻辣牛肉", "meats", 48, "meat spicy", 0.6),
    ("MT008", "Tender beef slices", "嫩牛肉", "meats", 46, "meat", 0.7),
    ("MT009", "Wagyu beef", "和牛", "meats", 168, "meat premium", 0.15),
    ("MT010", "Pork belly slices", "五花肉", "meats", 36, "meat", 0.5),
    ("MT011", "Luncheon meat", "午餐肉", "meats", 26, "meat kids", 0.8),
    ("MT012", "Pork brain", "猪脑花", "meats", 28, "meat spicy", 0.2),
    ("MT013", "Beef balls", "牛肉丸", "meats", 32, "meat kids", 0.6),
    ("MT014", "Handmade pork balls", "手打猪肉丸", "meats", 30, "meat", 0.4),
    ("MT015", "Chicken gizzards", "鸡胗", "meats", 28, "meat", 0.25),
    ("MT016", "Goose intestines", "鹅肠", "meats", 42, "meat spicy", 0.3),
    ("MT017", "Yellow throat", "黄喉", "meats", 42, "meat spicy", 0.4),
    ("MT018", "Beef tongue", "牛舌", "meats", 58, "meat premium", 0.25),
    ("MT019", "Pork kidney slices", "腰片", "meats", 32, "meat", 0.15),
    ("MT020", "Taiwanese sausage", "台湾香肠", "meats", 28, "meat kids", 0.4),
    ("MT021", "Chicken slices", "鸡肉片", "meats", 32, "meat", 0.3),
    ("MT022", "Beef tendon balls", "牛筋丸", "meats", 32, "meat", 0.35),
    ("MT023", "Iberico pork collar", "伊比利亚猪颈肉", "meats", 78, "meat premium", 0.2),
    # seafood
    ("SF001", "Shrimp paste", "虾滑", "seafood", 48, "seafood kids", 1.0),
    ("SF002", "Fresh fish fillet", "鲜鱼片", "seafood", 42, "seafood", 0.6),
    ("SF003", "Squid slices", "鱿鱼", "seafood", 36, "seafood", 0.4),
    ("SF004", "Fish balls", "鱼丸", "seafood", 28, "seafood kids", 0.6),
    ("SF005", "Crab sticks", "蟹棒", "seafood", 26, "seafood kids", 0.5),
    ("SF006", "Fresh prawns", "鲜虾", "seafood", 68, "seafood premium", 0.4),
    ("SF007", "Scallops", "扇贝", "seafood", 58, "seafood premium", 0.25),
    ("SF008", "Clams", "花甲", "seafood", 32, "seafood", 0.3),
    ("SF009", "Eel slices", "鳝片", "seafood", 48, "seafood", 0.2),
    ("SF010", "Abalone", "鲍鱼", "seafood", 88, "seafood premium", 0.15),
    ("SF011", "Cuttlefish balls", "墨鱼丸", "seafood", 32, "seafood", 0.4),
    ("SF012", "Basa fish fillet", "巴沙鱼片", "seafood", 38, "seafood", 0.3),
    ("SF013", "Fish tofu", "鱼豆腐", "seafood", 22, "seafood kids", 0.5),
    ("SF014", "Fresh oysters", "生蚝", "seafood", 58, "seafood premium", 0.2),
    ("SF015", "Sea cucumber", "海参", "seafood", 128, "seafood premium", 0.08),
    ("SF016", "Shrimp dumplings", "虾饺", "seafood", 32, "seafood", 0.35),
    # vegetables
    ("VG001", "Potato slices", "土豆片", "vegetables", 14, "vegetarian", 1.0),
    ("VG002", "Lotus root slices", "藕片", "vegetables", 16, "vegetarian", 0.8),
    ("VG003", "Napa cabbage", "大白菜", "vegetables", 12, "vegetarian", 0.5),
    ("VG004", "Spinach", "菠菜", "vegetables", 14, "vegetarian", 0.4),
    ("VG005", "Enoki mushrooms", "金针菇", "vegetables", 18, "vegetarian mushroom", 0.9),
    ("VG006", "Shiitake mushrooms", "香菇", "vegetables", 18, "vegetarian mushroom", 0.5),
    ("VG007", "Mushroom platter", "菌菇拼盘", "vegetables", 38, "vegetarian mushroom", 0.4),
    ("VG008", "Frozen tofu", "冻豆腐", "vegetables", 16, "vegetarian", 0.6),
    ("VG009", "Tofu skin", "豆皮", "vegetables", 16, "vegetarian", 0.5),
    ("VG010", "Crispy tofu skin rolls", "响铃卷", "vegetables", 22, "vegetarian", 0.4),
    ("VG011", "Kelp knots", "海带结", "vegetables", 14, "vegetarian", 0.4),
    ("VG012", "Winter melon", "冬瓜", "vegetables", 12, "vegetarian", 0.4),
    ("VG013", "Lettuce", "生菜", "vegetables", 12, "vegetarian", 0.5),
    ("VG014", "Crown daisy", "茼蒿", "vegetables", 14, "vegetarian", 0.3),
    ("VG015", "Pea shoots", "豌豆尖", "vegetables", 18, "vegetarian", 0.3),
    ("VG016", "Wood ear fungus", "木耳", "vegetables", 18, "vegetarian mushroom", 0.3),
    ("VG017", "Bamboo shoots", "竹笋", "vegetables", 20, "vegetarian", 0.3),
    ("VG018", "Sweet corn", "玉米", "vegetables", 14, "vegetarian sweet kids", 0.4),
    ("VG019", "Sweet potato slices", "红薯片", "vegetables", 14, "vegetarian sweet", 0.4),
    ("VG020", "Vegetable platter", "蔬菜拼盘", "vegetables", 32, "vegetarian", 0.6),
    ("VG021", "Konjac", "魔芋", "vegetables", 16, "vegetarian", 0.3),
    ("VG022", "Gluten puffs", "面筋", "vegetables", 16, "vegetarian", 0.3),
    ("VG023", "Silken tofu", "嫩豆腐", "vegetables", 14, "vegetarian kids", 0.4),
    ("VG024", "Quail eggs", "鹌鹑蛋", "vegetables", 18, "kids", 0.4),
    # staples
    ("ST001", "Dancing noodles", "捞派捞面", "staples", 18, "noodles kids", 0.8),
    ("ST002", "Steamed rice", "米饭", "staples", 3, "", 0.6),
    ("ST003", "Sweet potato noodles", "红薯粉", "staples", 14, "noodles vegetarian", 0.7),
    ("ST004", "Egg fried rice", "蛋炒饭", "staples", 22, "", 0.3),
    ("ST005", "Handmade noodles", "手工面", "staples", 16, "noodles", 0.4),
    ("ST006", "Rice cakes", "年糕", "staples", 16, "vegetarian", 0.3),
    ("ST007", "Wide glass noodles", "宽粉", "staples", 14, "noodles vegetarian", 0.6),
    ("ST008", "Pork dumplings", "水饺", "staples", 26, "meat", 0.3),
    ("ST009", "Steamed buns", "馒头", "staples", 12, "vegetarian kids", 0.2),
    ("ST010", "Instant noodles", "方便面", "staples", 8, "noodles kids", 0.4),
    ("ST011", "Rice noodles", "米线", "staples", 14, "noodles vegetarian", 0.3),
    ("ST012", "Scallion pancake", "葱油饼", "staples", 18, "vegetarian", 0.2),
    # snacks
    ("SN001", "Sauce bar (per person)", "自助调料", "snacks", 10, "sauce", 1.0),
    ("SN002", "Crispy fried pork", "小酥肉", "snacks", 38, "meat kids", 1.0),
    ("SN003", "Smashed cucumber", "拍黄瓜", "snacks", 12, "vegetarian cold spicy", 0.4),
    ("SN004", "Fried golden buns", "炸馒头", "snacks", 18, "sweet kids", 0.5),
    ("SN005", "Sichuan pickles", "泡菜", "snacks", 8, "vegetarian spicy", 0.3),
    ("SN006", "Braised chicken wings", "鸡翅", "snacks", 32, "meat", 0.3),
    ("SN007", "Salted edamame", "毛豆", "snacks", 12, "vegetarian cold", 0.4),
    ("SN008", "Spicy peanuts", "麻辣花生", "snacks", 10, "vegetarian spicy", 0.3),
    ("SN009", "Sichuan cold noodles", "凉面", "snacks", 16, "cold noodles spicy", 0.3),
    ("SN010", "Pan-fried dumplings", "锅贴", "snacks", 22, "meat", 0.3),
    ("SN011", "French fries", "薯条", "snacks", 18, "vegetarian kids", 0.3),
    ("SN012", "Century egg tofu", "皮蛋豆腐", "snacks", 16, "cold", 0.3),
    ("SN013", "Wood ear salad", "凉拌木耳", "snacks", 14, "vegetarian cold mushroom", 0.3),
    ("SN014", "Popcorn chicken", "鸡米花", "snacks", 22, "meat kids", 0.3),
    # drinks
    ("DR001", "Lemon water (free refill)", "柠檬水", "drinks", 3, "water", 1.0),
    ("DR002", "Sour plum drink (jug)", "酸梅汤", "drinks", 28, "sweet cold", 0.7),
    ("DR003", "Fresh lemon juice", "鲜榨柠檬汁", "drinks", 18, "sweet cold", 0.5),
    ("DR004", "Soy milk", "豆浆", "drinks", 12, "sweet vegetarian", 0.5),
    ("DR005", "Coca-Cola", "可口可乐", "drinks", 8, "sweet cold kids", 0.6),
    ("DR006", "Sprite", "雪碧", "drinks", 8, "sweet cold", 0.4),
    ("DR007", "Herbal tea", "王老吉", "drinks", 8, "cold", 0.6),
    ("DR008", "Tsingtao beer", "青岛啤酒", "drinks", 12, "alcohol cold", 0.7),
    ("DR009", "Snow beer", "雪花啤酒", "drinks", 10, "alcohol cold", 0.5),
    ("DR010", "Craft beer", "精酿啤酒", "drinks", 28, "alcohol premium cold", 0.2),
    ("DR011", "Baijiu (small bottle)", "小瓶白酒", "drinks", 38, "alcohol", 0.2),
    ("DR012", "Watermelon juice", "西瓜汁", "drinks", 22, "sweet cold", 0.3),
    ("DR013", "Barley tea", "大麦茶", "drinks", 6, "water", 0.4),
    ("DR014", "Coconut milk", "椰汁", "drinks", 16, "sweet cold", 0.4),
    ("DR015", "Orange juice", "橙汁", "drinks", 18, "sweet cold kids", 0.3),
    ("DR016", "Red wine (glass)", "红酒", "drinks", 48, "alcohol premium", 0.1),
    # desserts
    ("DS001", "Brown sugar glutinous rice cakes", "红糖糍粑", "desserts", 22, "sweet", 0.7),
    ("DS002", "Watermelon", "西瓜", "desserts", 18, "sweet cold vegetarian", 0.5),
    ("DS003", "Fruit platter", "水果拼盘", "desserts", 32, "sweet cold vegetarian", 0.4),
    ("DS004", "Ice cream", "冰淇淋", "desserts", 12, "sweet cold kids", 0.5),
    ("DS005", "Mango pudding", "芒果布丁", "desserts", 16, "sweet cold", 0.3),
    ("DS006", "Black sesame tangyuan", "黑芝麻汤圆", "desserts", 18, "sweet", 0.3),
    ("DS007", "Grass jelly", "烧仙草", "desserts", 16, "sweet", 0.3),
    ("DS008", "Double-skin milk", "双皮奶", "desserts", 18, "sweet", 0.2),
    ("DS009", "Brown sugar ice jelly", "红糖冰粉", "desserts", 10, "sweet cold", 0.5),
    # kids
    ("KD001", "Kids mild bone broth", "儿童骨汤锅", "kids", 18, "kids broth", 0.6),
    ("KD002", "Kids meal set", "儿童套餐", "kids", 38, "kids", 0.5),
    ("KD003", "Steamed egg custard", "鸡蛋羹", "kids", 12, "kids", 0.6),
    ("KD004", "Kids noodles", "儿童面", "kids", 12, "kids noodles", 0.5),
    ("KD005", "Cartoon shrimp balls", "卡通虾丸", "kids", 28, "kids seafood", 0.4),
    ("KD006", "Kids yogurt", "儿童酸奶", "kids", 8, "kids sweet cold", 0.4),
    ("KD007", "Corn on the cob", "玉米棒", "kids", 10, "kids sweet vegetarian", 0.3),
    ("KD008", "Kids fruit cup", "儿童水果杯", "kids", 12, "kids sweet", 0.3),
    ("KD009", "Pumpkin cakes", "南瓜饼", "kids", 16, "kids sweet", 0.4),
    ("KD010", "Kids milk", "儿童牛奶", "kids", 8, "kids", 0.3),
)


def demo_stores() -> list[DemoStore]:
    """Return the stores of the demo chain (18 stores in 10 cities)."""
    return [
        DemoStore(
            code=code,
            name=name,
            city=city,
            region=region,
            # Every store is in mainland China, which keeps one offset all year.
            timezone="Asia/Shanghai",
            opened_on=opened_on,
        )
        for code, name, city, region, opened_on, _traffic in _STORES
    ]


def store_popularity() -> dict[str, float]:
    """Return the relative traffic of each store, keyed by store code."""
    return {row[0]: row[5] for row in _STORES}


def demo_menu() -> list[DemoItem]:
    """Return the demo hot-pot menu (139 items in the nine CATEGORIES)."""
    return [
        DemoItem(
            sku=sku,
            name=name,
            name_zh=name_zh,
            category=category,
            price_cents=yuan * 100,
            tags=frozenset(tags.split()),
        )
        for sku, name, name_zh, category, yuan, tags, _pop in _MENU
    ]


def item_popularity() -> dict[str, float]:
    """Return the chain-wide relative popularity of each item, keyed by SKU."""
    return {row[0]: row[6] for row in _MENU}
