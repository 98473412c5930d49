#!/usr/bin/env python3
"""Synthetic benchmark corpus generator for feeder.

Writes N Hexo-style Markdown articles shaped like the real production input
(posts written by an RSSHub -> Hexo generator), deterministically for a given
seed.  Everything needed is embedded here; nothing is read from disk.

    python bench/gen_corpus.py OUT_DIR -n 20000 [--seed 1] [--clean]

Layout written under OUT_DIR:

* new style (most sites): ``<category>/<feed>/<sub>/<title>_<i>.md``
  e.g. ``金融/新浪财经/新浪财经－国內/北京…碳中和_17.md``; front matter with
  three category levels indented by one space, quoted title, headimg and
  thumbnail, mostly RFC 822 dates;
* old flat style: ``<feed> - <sub>/<i>.md`` e.g. ``雪球 - 用户自选动态/42.md``;
  two (rarely three) category levels indented by four spaces, plain or
  ``"""""'…'"""""``-wrapped titles, thumbnail only, mostly naive dates.

The ``_<i>`` suffix / ``<i>`` file name (``i`` = article index) keeps every
path unique, so article ``i`` is the same file whatever ``n`` is: a corpus of
200 is a prefix of a corpus of 20,000, and ``new_article_text(n)`` yields a
fresh article that does not collide with any of the first ``n``.

Deliberate oddities, as in production (rough overall rates): no blank line
before ``---`` (~8 %), titles YAML cannot parse (``"""'…'"""`` runs, leading
``@``: a few %), blank titles (~1 %), ``title: #``, numeric and multi-line
titles (rare), ``date: Invalid Date`` (~3 %), naive dates (~1/4), empty /
plain-text bodies, 4 KB ``<style>`` blocks with ``&#123;``/``&#125;``, HTML
comments, app-QR promotion footers and editor lines.

Function API (all deterministic in (index, seed)):

* ``article(i, seed=1, *, when=None, well_formed=False) -> (relpath, text)``
* ``article_text(i, rng, ...) -> (relpath, text)`` – same, with your own rng
* ``new_article_text(i, seed=1, *, when=None, well_formed=False)`` – alias
  meant for "add one new article" benchmarks (pass ``when=datetime.now(UTC)``
  to make it the newest post, ``well_formed=True`` for a clean title/date)
* ``write_article(out_dir, i, seed=1, ...) -> Path``
* ``generate(out_dir, n, seed=1) -> int`` (number of files written)
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

__all__ = [
    "SITES",
    "article",
    "article_text",
    "new_article_text",
    "write_article",
    "generate",
    "generate_stats",
]

# --------------------------------------------------------------------------
# Sites (authors): (top category, feed, subs, style, lang, kind, logo, img, weight)
#   style: "new" -> <top>/<feed>/<sub>/<title>_<i>.md, 3 levels, 1-space indent
#          "old" -> <feed> - <sub>/<i>.md, 2 levels, 4-space indent
#          "old3" -> as old but front matter lists 3 levels (top, feed, sub)
#   img: template for real-looking image URLs; fields {ymd} {y} {m} {n} {n6} {h8} {h32}
# --------------------------------------------------------------------------
SINA_LOGO = "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png"
ITHOME_LOGO = "https://img.ithome.com/images/v2.5/app/ithome_app_qrcode.png"
KR36_LOGO = "https://static.36krcdn.com/36kr-web/static/app_qrcode.4f1a8b2c.png"

_SITE_ROWS = [
    # 金融
    ("金融", "新浪财经", ("新浪财经－国內", "新浪财经－美股", "新浪财经－滚动"), "new", "zh", "sina", SINA_LOGO,
     "https://n.sinaimg.cn/finance/{h8}/{ymd}/{n}.jpg", 9),
    ("金融", "DT 财经", ("数据侠专栏", "数据洞察"), "new", "zh", "news", None,
     "https://dtcj.oss-cn-beijing.aliyuncs.com/uploads/{ymd}/{h32}.png", 2),
    ("金融", "财联社", ("电报", "深度"), "old", "zh", "short", None, "https://img.cls.cn/images/{ymd}/{h8}.jpg", 4),
    ("金融", "证券时报网", ("数据", "要闻"), "old", "zh", "table", None, "https://static.stcn.com/{y}/{m}/{n6}.jpg", 2),
    ("金融", "finviz", ("美股股票新闻",), "old", "en", "short", None, "", 5),
    ("金融", "雪球", ("用户自选动态", "用户收藏动态"), "old", "zh", "xueqiu", None, "", 2),
    ("金融", "世界经济论坛", ("报告",), "old", "en", "blog", None, "https://assets.weforum.org/report/image/{h32}.jpg", 1),
    ("金融", "华尔街见闻", ("最新", "快讯"), "new", "zh", "news", None,
     "https://wpimg.wallstcn.com/{h8}-{h8}-{h8}.jpg", 4),
    ("金融", "格隆汇", ("快讯",), "new", "zh", "news", None, "https://img3.gelonghui.com/{h32}.jpg", 2),
    # 编程
    ("编程", "开源中国", ("资讯", "用户博客", "问答主题"), "new", "zh", "news", None,
     "https://oscimg.oschina.net/oscnet/up-{h32}.png", 4),
    ("编程", "掘金", ("分类", "沸点"), "new", "zh", "juejin", None,
     "https://p6-juejin.byteimg.com/tos-cn-i-k3u1fbpfcp/{h32}~tplv-k3u1fbpfcp-watermark.image", 4),
    ("编程", "Dockone", ("周报",), "new", "zh", "blog", None, "http://dockone.io/uploads/article/{ymd}/{h32}.png", 1),
    ("编程", "AI 研习社", ("首页",), "new", "zh", "news", None, "https://static.leiphone.com/uploads/new/{ymd}/{h8}.jpg", 1),
    ("编程", "ACM", ("图灵奖获得者",), "new", "en", "blog", None, "https://amturing.acm.org/images/lg_aw/{n}.jpg", 1),
    ("编程", "微信开放平台", ("微信支付 - 商户平台公告", "微信开放社区 - 小程序问答"), "old", "zh", "wechat", None, "", 2),
    ("编程", "微信小程序", ("开发者工具更新日志",), "old", "zh", "blog", None, "", 1),
    ("编程", "wolley", ("posts", "host"), "old", "en", "wolley", None, "", 2),
    ("编程", "AlgoCasts", ("视频更新",), "old", "zh", "video", None, "https://static.algocasts.io/cover/{n6}.png", 1),
    ("编程", "技术头条", ("最新分享",), "old", "zh", "short", None, "", 1),
    ("编程", "Hacker News", ("Best", "Show HN"), "new", "en", "short", None, "", 3),
    ("编程", "GitHub", ("Trending", "Releases"), "old", "en", "blog", None,
     "https://opengraph.githubassets.com/{h32}/{h8}", 2),
    ("编程", "V2EX", ("最热主题",), "new", "zh", "forum", None, "https://i.v2ex.co/{h8}.png", 2),
    # 游戏
    ("游戏", "Minecraft", ("Java 版游戏更新", "Feed The Beast (FTB) 模组包更新"), "old", "zh", "minecraft", None, "", 2),
    ("游戏", "3DMGame", ("新闻中心",), "new", "zh", "gamenews", None,
     "https://img.3dmgame.com/uploads/images/news/{ymd}/{n}_{n6}.jpg", 4),
    ("游戏", "游戏时光", ("游戏时光新闻",), "new", "zh", "gamenews", None,
     "https://img01.vgtime.com/web/topic/{y}/{m}/{d}/{n}_u{n6}.jpg", 3),
    ("游戏", "GameRes 游资网", ("热点推荐", "列表"), "new", "zh", "forum", None,
     "https://di.gameres.com/attachment/forum/{y}{m}/{d}/{n6}{h8}.jpg", 2),
    ("游戏", "少女前线", ("新闻",), "old", "zh", "news", None, "https://gf-cn.sunborngame.com/uploads/{h32}.jpg", 1),
    ("游戏", "SteamGifts", ("Discussions",), "old", "en", "short", None, "", 1),
    ("游戏", "Nintendo", ("Switch 本体更新情报（日本）",), "old", "ja", "short", None, "", 1),
    ("游戏", "Indienova", ("indienova 文章",), "old", "zh", "blog", None, "https://img.indienova.com/{h32}.jpg", 1),
    ("游戏", "GNN.tw 游戏新闻", ("GNN.tw 游戏新闻",), "old", "zh", "gamenews", None,
     "https://p2.bahamut.com.tw/B/2KU/{n6}/{h32}.JPG", 2),
    ("游戏", "最终幻想 14", ("最终幻想 14 国服",), "old", "zh", "news", None, "", 1),
    ("游戏", "机核", ("资讯",), "new", "zh", "gamenews", None, "https://image.gcores.com/{h32}.jpg", 2),
    # 新媒体
    ("新媒体", "IT 之家", ("分类资讯",), "new", "zh", "gamenews", ITHOME_LOGO,
     "https://img.ithome.com/newsuploadfiles/{y}/{m}/{h32}.jpg", 5),
    ("新媒体", "九三学社", ("分类",), "old", "zh", "news", None, "", 2),
    ("新媒体", "cnBeta", ("最新",), "new", "zh", "news", None, "https://static.cnbetacdn.com/article/{y}/{m}{d}/{h8}.jpg", 4),
    ("新媒体", "坂道系列官网资讯", ("日向坂 46 博客",), "old", "ja", "blog", None,
     "https://cdn.hinatazaka46.com/files/14/diary/official/member/moblog/{y}{m}/mob{h8}.jpg", 1),
    ("新媒体", "少数派 sspai", ("标签订阅",), "old", "zh", "blog", None, "https://cdn.sspai.com/{y}/{m}/{d}/{h32}.png", 2),
    ("新媒体", "品玩", ("用户",), "old", "zh", "news", None, "", 1),
    ("新媒体", "InfoQ 中文", ("话题",), "old", "zh", "blog", None, "https://static001.infoq.cn/resource/image/{h32}.png", 2),
    ("新媒体", "Esquirehk", ("Tag",), "old", "zh", "news", None,
     "https://www.esquirehk.com/var/esquirehk/storage/images/{n}/{h8}.jpg", 1),
    ("新媒体", "36氪", ("快讯", "最新"), "new", "zh", "news", KR36_LOGO, "https://img.36krcdn.com/{ymd}/v2_{h32}.jpg", 4),
    # 社交媒体
    ("社交媒体", "知乎", ("知乎日报", "专栏"), "new", "zh", "zhihu", None, "https://pic3.zhimg.com/v2-{h32}_b.jpg", 4),
    ("社交媒体", "微博", ("热搜榜",), "old", "zh", "short", None, "", 3),
    ("社交媒体", "豆瓣", ("正在上映的电影", "即将上映的电影"), "old", "zh", "image", None,
     "https://img2.doubanio.com/view/photo/s_ratio_poster/public/p{n}.jpg", 2),
    ("社交媒体", "简书", ("首页",), "old", "zh", "blog", None, "https://upload-images.jianshu.io/upload_images/{n}.png", 2),
    ("社交媒体", "Telegram", ("Telegram Blog",), "old", "en", "blog", None, "https://telegram.org/file/{n}/{h8}.jpg", 1),
    ("社交媒体", "Gab", ("熱門",), "old", "en", "short", None, "", 1),
    ("社交媒体", "Dev.to", ("最高职位",), "old", "en", "blog", None, "https://res.cloudinary.com/practicaldev/image/{h32}.png", 2),
    ("社交媒体", "755", ("用户时间线",), "old", "ja", "short", None, "", 1),
    # 二次元
    ("二次元", "AGE 动漫", ("番剧详情",), "old", "zh", "short", None, "", 2),
    ("二次元", "Bangumi", ("放送列表", "用户日志"), "new", "zh", "blog", None, "https://lain.bgm.tv/pic/cover/l/{h8}.jpg", 2),
    ("二次元", "Eventernote", ("声优活动及演唱会",), "new", "ja", "short", None, "", 1),
    ("二次元", "動畫瘋", ("最後更新",), "old", "zh", "image", None, "https://p2.bahamut.com.tw/B/ACG/c/{n6}.JPG", 1),
    ("二次元", "DLsite", ("产品打折信息",), "old", "ja", "image", None,
     "https://img.dlsite.jp/modpub/images2/work/doujin/RJ{n6}/RJ{n6}_img_main.jpg", 1),
    ("二次元", "1draw 深夜の真剣お絵描き 60 分一本勝負", ("投稿一览",), "old", "ja", "image", None,
     "https://pbs.twimg.com/media/{h8}.jpg", 1),
    ("二次元", "AcFun", ("番剧",), "old3", "zh", "video", None, "https://imgs.aixifan.com/bangumi/{h8}.jpg", 1),
    # 设计
    ("设计", "Dribbble", ("流行",), "old", "en", "video", None,
     "https://cdn.dribbble.com/users/{n6}/screenshots/{n}/media/{h32}.png?compress=1&resize=400x300", 2),
    ("设计", "Blur Studio", ("Works",), "old", "en", "video", None, "", 1),
    ("设计", "Blow Studio", ("主页",), "old3", "en", "video", None, "", 1),
    ("设计", "站酷", ("发现",), "new", "zh", "image", None, "https://img.zcool.cn/community/01{h32}.jpg", 2),
    # 博客
    ("博客", "Hexo", ("Yilia 主题博客",), "new", "zh", "blog", None, "", 1),
    ("博客", "Google Sites", ("文章更新",), "new", "zh", "blog", None, "", 1),
    ("博客", "每日安全", ("推送",), "old", "zh", "short", None, "", 2),
    ("博客", "Paul Graham 博客", ("Essays",), "old", "en", "blog", None, "", 1),
    ("博客", "Hi, DIYgod", ("DIYgod 的可爱的手办们",), "old", "zh", "image", None, "https://i.loli.net/{y}/{m}/{d}/{h8}.jpg", 1),
    ("博客", "阮一峰的网络日志", ("科技爱好者周刊",), "new", "zh", "blog", None,
     "https://cdn.beekka.com/blogimg/asset/{y}{m}/bg{ymd}.jpg", 2),
]

APP_SLOGANS = {
    SINA_LOGO: "海量资讯、精准解读，尽在新浪财经APP",
    ITHOME_LOGO: "下载IT之家APP，分享赚金币换豪礼",
    KR36_LOGO: "扫码下载36氪APP，获取最新商业资讯",
}


class Site:
    __slots__ = ("top", "feed", "subs", "style", "lang", "kind", "logo", "img", "weight")

    def __init__(self, top, feed, subs, style, lang, kind, logo, img, weight):
        self.top, self.feed, self.subs, self.style = top, feed, subs, style
        self.lang, self.kind, self.logo, self.img, self.weight = lang, kind, logo, img, weight

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Site({self.top}/{self.feed})"


SITES = [Site(*row) for row in _SITE_ROWS]
# New-style (nested) sites count double: about 2/3 of the files are nested.
_SITE_WEIGHTS = []
_acc = 0
for _s in SITES:
    _acc += _s.weight * (2 if _s.style == "new" else 1)
    _SITE_WEIGHTS.append(_acc)
del _acc, _s

# Dates: three years, so that ordering matters.
DATE_START = int(datetime(2019, 3, 1, tzinfo=timezone.utc).timestamp())
DATE_END = int(datetime(2022, 3, 1, tzinfo=timezone.utc).timestamp())
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# --------------------------------------------------------------------------
# Vocabulary (inspired by the real posts)
# --------------------------------------------------------------------------
ZH_WORDS = (
    "北京市 地方金融监管局 绿色金融 碳中和 近零排放 试点 园区 监管 金融机构 资产管理 征信评级 支付清算 "
    "上市公司 机构调研 证券公司 基金公司 净利润 同比增长 营业收入 市场表现 投资者 股东大会 年度报告 "
    "新能源汽车 半导体 芯片 供应链 产业链 数字经济 人工智能 云计算 大数据 区块链 开源社区 开发者 "
    "小程序 前端框架 构造函数 作用域 内存地址 组件 插件 版本更新 快照 服务器 数据库 性能优化 "
    "手游 端游 引擎 渲染 美术表现 玩家 发售 销量 续作 三部曲 开放世界 剧情 关卡 多人模式 "
    "新番 动画 声优 演唱会 手办 周边 漫画 连载 放送 番剧 "
    "用户 平台 社区 话题 热搜 评论 转发 点赞 收藏 关注 粉丝 直播 短视频 "
    "记者 获悉 表示 指出 据统计 数据显示 截至目前 下一步 进一步 积极 推动 加强 拓展 优化 "
    "发布 上线 推出 宣布 披露 公告 通知 维护 升级 调整 完成 实现 支持 提供 打造 建设 "
    "全国 全球 海外 国内 行业 市场 企业 团队 项目 产品 服务 技术 方案 标准 体系 能力 "
    "首次 正式 同时 此外 其中 目前 未来 今年 去年 近日 本周 昨日 "
).split()
ZH_CONNECT = ("，", "，", "，", "、", "；", "，并", "，同时", "，而", "，其中")
ZH_NUMFMT = ("{a}%", "{a}亿元", "{b}家", "{c}月{d}日", "{a}.{b}%", "{b}万", "第{b}", "{e}年")

EN_WORDS = (
    "the a of to and in for on with that this is are was were be has have will can market stock stocks "
    "shares investors company companies revenue earnings quarter growth rally futures price target recession "
    "tech apple google tesla patent jury court users developers release update version feature support "
    "performance memory server cloud open source community design studio animation episode game games player "
    "players launch week year today new best top first last big small strong weak high low fast simple "
    "report data analysis global economy economic outlook risk policy team product service platform app "
    "mobile web browser code library framework bug fix build test people world time work things learned "
    "essay startup founders idea ideas money great good better right wrong long short during after before "
    "about into over under more most many much very really also just only still even again"
).split()
JA_PHRASES = (
    "こんにちは", "今日は", "ありがとうございます", "ライブ", "配信開始", "新曲", "投稿イラスト", "おしごと",
    "本体更新", "割引終了", "販売開始", "イベント", "ブログ", "メンバー", "よろしくお願いします", "楽しかったです",
    "またね", "お知らせ", "公開", "予約受付中", "声優", "アニメ", "ゲーム", "写真", "撮影", "東京", "日向坂",
    "みなさん", "本当に", "嬉しい", "明日も", "頑張ります", "最新情報", "発売日",
)
ZH_NAMES = (
    "邓健", "梁斌", "贺觉渊", "张三", "李四", "王晓", "刘洋", "陈晨", "杨帆", "赵敏", "孙悦", "周涛", "吴昊",
    "郑爽", "冯雪", "朱琳", "高远", "林峰", "何静", "罗晶", "马骁", "胡玥", "郭婷", "宋杰",
)
ZH_MEDIA = ("证券时报", "中国证券报", "上海证券报", "第一财经", "经济观察报", "21世纪经济报道", "新京报", "澎湃新闻")
STOCKS = (
    ("台积电", "NYSE", "TSM"), ("Snowflake", "NYSE", "SNOW"), ("AMC娱乐", "NYSE", "AMC"),
    ("比特币基金", "OTC", "GBTC"), ("贵州茅台", "SH", "600519"), ("腾讯控股", "HK", "00700"),
    ("宁德时代", "SZ", "300750"), ("特斯拉", "NASDAQ", "TSLA"), ("苹果", "NASDAQ", "AAPL"), ("蔚来", "NYSE", "NIO"),
)
XQ_USERS = ("大道无形我有型", "价值投资者", "雪球小秘书", "不明真相的群众", "ETF拯救世界", "梁宏")
ZH_GAMES = ("天谕", "质量效应3", "原神", "哈迪斯", "塞尔达传说", "艾尔登法环", "最终幻想14", "赛博朋克2077", "动物森友会")
ZH_TITLE_BITS = (
    "将选择部分园区推动近零排放试点", "率先实现碳中和", "逾七成业绩增长", "IC基板成香饽饽", "A股相关产业链公司大有可为",
    "背后的技术究竟有多强", "带着旗舰骁龙870来搅局了", "年度游戏公布", "发售头三天销量达350万套", "正式版更新",
    "升级维护通知", "说说你的看法", "何时买入宽基ETF", "走步算得特别准", "被机器监控的毒品", "准备向WiMAX说再见",
    "审核Q&A", "追加新春奖励", "超多福利陪你过大年", "媒体评分", "揭秘在大厂工作的区别", "做对了什么",
    "开发者工具更新日志", "新番動畫", "全景平面图", "重磅推出ESG中国版指数", "发出绿色金融北京倡议",
)
EN_TITLE_BITS = (
    "Top Tech Stocks to Buy During a Recession", "U.S. jury tells Apple to pay $308.5 mln for patent infringement",
    "No Crystal Ball For This Market Rally", "Chief Economists Outlook", "Better Buy_ Alphabet vs. Pinterest",
    "Right to repair_ what can you do if your mobile phone breaks_", "amazing resources you're gonna love",
    "Things I've Learned", "How to Start a Startup", "Love, Death + Robots", "Card Illustrations",
    "Million Users, Stickers, Quizzes 2.0", "Epic Games Value May Hit $28 Billion", "Bank App",
)

CODE_SNIPPETS = (
    "function Person(name) &#123;\n  this.name = name;\n&#125;\nPerson.prototype.say = function () &#123;\n"
    "  console.log(this.name);\n&#125;;\nconst p = new Person('tom');\np.say();",
    "const arr = [1, 2, 3].map((x) =&gt; x * 2);\nconsole.log(arr); // [2, 4, 6]",
    "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
    "export default &#123;\n  data() &#123;\n    return &#123; fileList: [] &#125;;\n  &#125;,\n"
    "  methods: &#123;\n    upload(file) &#123; this.fileList.push(file); &#125;\n  &#125;\n&#125;;",
    "SELECT id, title, pub_date FROM articles WHERE pub_date &gt; '2021-01-01' ORDER BY pub_date DESC LIMIT 20;",
    "if (window.NFC) &#123;\n  await NFC.startScan();\n&#125; else &#123;\n  alert('NFC not supported');\n&#125;",
)
HTML_COMMENTS = (
    "<!-- news_keyword_pub,stock, -->", "<!--more-->", "<!-- 正文下iframe -->", "<!-- 总声明-->",
    "<!-- 编辑姓名及工作代码 -->", "<!-- article body start -->", "<!-- ad slot -->",
)


def _build_css(prefix: str, target: int) -> str:
    """A ~target-char CSS block with Hexo-escaped braces, like the real posts."""
    props = (
        "word-break:break-word", "line-height:1.75", "font-weight:400", "font-size:15px", "overflow-x:hidden",
        "color:#333", "margin-top:35px", "margin-bottom:10px", "padding-bottom:5px", "border-bottom:1px solid #ececec",
        "max-width:100%", "border:none", "border-top:1px solid #ddd", "border-radius:2px", "background-color:#fff5f5",
        "color:#ff502c", "font-size:.87em", "padding:.065em .4em", "font-family:Menlo,Monaco,Consolas,monospace",
        "overflow:auto", "position:relative", "display:block", "text-decoration:none", "color:#0269c8",
        "text-align:left", "padding:12px 7px", "min-width:120px", "border-left:4px solid #cbcbcb",
    )
    sels = ("", " h1", " h2", " h3", " h4", " h5", " h6", " p", " img", " hr", " code", " pre", " pre>code",
            " a", " a:hover", " table", " thead", " tr:nth-child(2n)", " td", " th", " blockquote", " ol", " ul",
            " li", " .task-list-item", " figure", " figcaption", " strong", " em", " del")
    r = random.Random(prefix)
    out, size, k = [], 0, 0
    while size < target:
        sel = f"{prefix}{sels[k % len(sels)]}"
        body = ";".join(r.sample(props, r.randint(2, 6)))
        rule = f"{sel}&#123;{body}&#125;"
        out.append(rule)
        size += len(rule)
        k += 1
    return "".join(out)


CSS_MARKDOWN = _build_css(".markdown-body", 3800)
CSS_ARTICLE = _build_css(".article-content", 4000)


def _build_pools():
    r = random.Random(20210830)

    def num():
        f = r.choice(ZH_NUMFMT)
        return f.format(a=r.randint(1, 99), b=r.randint(2, 999), c=r.randint(1, 12), d=r.randint(1, 28),
                        e=r.randint(2015, 2022))

    zh = []
    for _ in range(4000):
        parts = []
        for j in range(r.randint(4, 11)):
            if j and r.random() < 0.3:
                parts.append(r.choice(ZH_CONNECT))
            parts.append(num() if r.random() < 0.12 else r.choice(ZH_WORDS))
        zh.append("".join(parts) + r.choice("。。。。！？"))
    en = []
    for _ in range(2500):
        words = r.choices(EN_WORDS, k=r.randint(7, 22))
        if r.random() < 0.3:
            words.insert(r.randint(1, len(words)), f"{r.randint(2, 500)}")
        s = " ".join(words)
        if r.random() < 0.4:
            cut = r.randint(1, len(words) - 1)
            s = " ".join(words[:cut]) + ", " + " ".join(words[cut:])
        en.append(s[0].upper() + s[1:] + r.choice("....?!"))
    ja = []
    for _ in range(400):
        ja.append("、".join(r.choices(JA_PHRASES, k=r.randint(2, 5))) + r.choice(("。", "！", "♪", "🎀", "😊")))
    return zh, en, ja


ZH_POOL, EN_POOL, JA_POOL = _build_pools()
_POOLS = {"zh": ZH_POOL, "en": EN_POOL, "ja": JA_POOL}
_JOIN = {"zh": "", "en": " ", "ja": ""}


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _img_url(rng: random.Random, site: Site, ts: int) -> str:
    tpl = site.img or "https://img.example-cdn.com/uploads/{ymd}/{h32}.jpg"
    t = time.gmtime(ts)
    return tpl.format(ymd=f"{t.tm_year}{t.tm_mon:02d}{t.tm_mday:02d}", y=t.tm_year, m=f"{t.tm_mon:02d}",
                      d=f"{t.tm_mday:02d}", n=rng.randint(10**9, 10**10 - 1), n6=rng.randint(100000, 999999),
                      h8=_hex(rng, 8), h32=_hex(rng, 32))


def _rfc822(ts: int) -> str:
    t = time.gmtime(ts)
    return (f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT")


def _naive(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def _sentences(rng: random.Random, lang: str, k: int) -> str:
    return _JOIN[lang].join(rng.choices(_POOLS[lang], k=k))


def _paras(rng: random.Random, lang: str, budget: int, fmt: str, lo: int = 2, hi: int = 6) -> tuple[list[str], int]:
    """Paragraphs rendered through fmt until ~budget bytes (at least one)."""
    out, used = [], 0
    while True:
        p = fmt.format(_sentences(rng, lang, rng.randint(lo, hi)))
        out.append(p)
        used += len(p.encode("utf-8"))
        if used >= budget:
            return out, used


def _safe_name(s: str, limit: int = 48) -> str:
    s = "".join("_" if c in '/\\:*?<>|\n\r\t\0' else c for c in s).strip().lstrip(".")
    return s[:limit].rstrip() or "undefined"


# --------------------------------------------------------------------------
# Titles
# --------------------------------------------------------------------------
def _title_text(rng: random.Random, site: Site, ts: int) -> str:
    t = time.gmtime(ts)
    kind, lang = site.kind, site.lang
    if rng.random() < 0.01:  # numeric-looking titles: 111111, 2019.01.17, 1.1.0
        return rng.choice((str(rng.randint(1, 999999)), f"{t.tm_year}.{t.tm_mon:02d}.{t.tm_mday:02d}",
                           f"{rng.randint(0, 2)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"))
    if kind == "xueqiu":
        name, _, _ = rng.choice(STOCKS)
        return f"@{rng.choice(XQ_USERS)} 关注了股票 {name}"
    if kind == "minecraft":
        if rng.random() < 0.6:
            return f"{t.tm_year % 100}w{rng.randint(1, 52):02d}{rng.choice('abc')} 快照更新"
        return f"1.{rng.randint(12, 18)}.{rng.randint(0, 5)} 正式版更新"
    if kind == "wechat":
        return f"{t.tm_mon}月{t.tm_mday}日微信支付升级维护通知"
    if lang == "en":
        if rng.random() < 0.5:
            return f"{rng.randint(2, 111)} " + rng.choice(EN_TITLE_BITS)
        words = rng.choices(EN_WORDS, k=rng.randint(3, 10))
        return " ".join(w.capitalize() if rng.random() < 0.6 else w for w in words)
    if lang == "ja":
        return "".join(rng.choices(JA_PHRASES, k=rng.randint(1, 3))) + rng.choice(("", "🎀", "の投稿イラスト", "（配信開始）"))
    r = rng.random()
    if r < 0.25:
        org = rng.choice(("北京市地方金融监管局", "证监会", "央行", "工信部", "网易", "腾讯", "阿里", "小米", "华为"))
        return f"{org}：{rng.choice(ZH_TITLE_BITS)}，{rng.choice(ZH_TITLE_BITS)}"
    if r < 0.4:
        return f"《{rng.choice(ZH_GAMES)}》{rng.choice(ZH_TITLE_BITS)}"
    if r < 0.5:
        return f"{rng.randint(2, 999)}家公司{rng.choice(('获机构调研（附名单）', '发布年报', '业绩预增'))}"
    if r < 0.6:
        return f"【{rng.choice(('一周', '快讯', '公告', '独家'))}】" + "".join(rng.choices(ZH_WORDS, k=rng.randint(3, 7)))
    words = rng.choices(ZH_WORDS, k=rng.randint(3, 8))
    if site.style == "new" and rng.random() < 0.08:
        words[0] = f'"{words[0]}"'  # quotes inside, like '"绿色股票"试水欧洲'
    s = "".join(words)
    if rng.random() < 0.4:
        s += rng.choice(("，", " ", "：")) + rng.choice(ZH_TITLE_BITS)
    return s


def _title_line(rng: random.Random, site: Site, text: str, well_formed: bool) -> str:
    """Front-matter title line in one of the production spellings."""
    r = rng.random()
    if well_formed:
        form = "quoted"
    elif r < 0.01:
        form = "blank"
    elif r < 0.012:
        form = "hash"
    elif r < 0.015:
        form = "multiline"
    elif site.style == "new":
        form = "quoted" if r < 0.97 else ("plain" if r < 0.985 else "quote_run")
    else:
        form = "plain" if r < 0.95 else "quote_run"
    if form == "quoted":
        return "title: '" + text.replace("'", "''") + "'"
    if form == "blank":
        return rng.choice(("title: ", "title: ''"))
    if form == "hash":
        return "title: #"
    plain = text.replace(": ", "_ ").replace(" #", " _")
    if form == "multiline" and len(plain) > 6:
        cut = len(plain) // 2
        return f"title: {plain[:cut].rstrip()}\n  {plain[cut:].lstrip()}"
    if form == "quote_run":
        k = rng.randint(7, 22)
        return "title: " + '"' * k + "'" + text + "'" + '"' * k
    return "title: " + plain


# --------------------------------------------------------------------------
# Bodies
# --------------------------------------------------------------------------
def _app_footer(rng: random.Random, logo: str) -> str:
    slogan = APP_SLOGANS.get(logo, "下载APP，获取更多精彩内容")
    editor = rng.choice(ZH_NAMES)
    code = rng.choice(("", "SF055", "N7384", "B001", "SZ123"))
    return (
        "\n\n\n\n\n\n\n\n<!-- 正文下iframe -->\n\n\n<!-- 正文下iframe -->\n\n<!-- 总声明-->\n\n\n\n\n\n\n\n\n\n\n\n"
        "<!-- 总声明-->\n\n<!-- 文末二维码 start -->\n\n\n"
        "            <!-- 文末二维码 start -->\n"
        "            <style>\n"
        "            .appendQr_wrap&#123;border:1px solid #E6E6E6;padding:8px;&#125;\n"
        "            .appendQr_normal&#123;float:left;&#125;\n"
        "            .appendQr_normal img&#123;width:74px;&#125;\n"
        "            .appendQr_normal_txt&#123;float:left;font-size:20px;line-height:74px;padding-left:20px;color:#333;&#125;\n"
        "            </style>\n"
        '            <div class="clearfix appendQr_wrap">\n'
        f'                <div class="appendQr_normal"><img src="{logo}" referrerpolicy="no-referrer"></div>\n'
        f'                <div class="appendQr_normal_txt">{slogan}</div>\n'
        "            </div>\n"
        "            <!-- 文末二维码 start -->\n\n"
        "            <!-- 文末二维码 start -->\n\n"
        "<!-- 编辑姓名及工作代码 -->\n\n"
        f'<p class="article-editor">责任编辑：{editor} {code}</p>\n'
        "<!-- 编辑姓名及工作代码-->\n\n"
    )


def _body(rng: random.Random, site: Site, title: str, ts: int, img: str, budget: int) -> str:
    kind, lang = site.kind, site.lang
    t = time.gmtime(ts)

    if kind == "short":
        r = rng.random()
        if r < 0.6:
            return title
        if r < 0.85:
            return _sentences(rng, lang, rng.randint(1, 3))
        return f'{title}<br><a href="https://example.org/item/{_hex(rng, 24)}">Comments</a>'
    if kind == "wolley":
        user = rng.choice(("wxsxp", "yoyo", "lambda", "nullptr"))
        return (f'via <a href="https://wolley.io/user/{user}">@{user}</a><br>'
                f'<a href="https://wolley.io/item/{_hex(rng, 24)}">Comments</a>')
    if kind == "xueqiu":
        name, ex, code = rng.choice(STOCKS)
        user = title.split(" ", 1)[0] if title.startswith("@") else "@" + rng.choice(XQ_USERS)
        hh = t.tm_hour % 12 or 12
        return (f"{user} 在{t.tm_mon}/{t.tm_mday}/{t.tm_year}, {hh}:{t.tm_min:02d}:{t.tm_sec:02d} "
                f"{'AM' if t.tm_hour < 12 else 'PM'} 关注了 {name}({ex}:{code})。")
    if kind == "minecraft":
        return title if rng.random() < 0.7 else f"<p>{title}</p><ul>" + "".join(
            f"<li>{_sentences(rng, 'zh', 1)}</li>" for _ in range(rng.randint(2, 8))) + "</ul>"
    if kind == "wechat":
        paras, _ = _paras(rng, "zh", min(budget, 1200), "<p>{}</p>", 1, 3)
        return f"<p>尊敬的商户：</p>{''.join(paras)}<p>微信支付团队</p><p>{t.tm_year}年{t.tm_mon}月{t.tm_mday}日</p>"
    if kind == "image":
        r = rng.random()
        if r < 0.5:
            return f'<img src="{img}" referrerpolicy="no-referrer">'
        cap = _sentences(rng, lang, rng.randint(1, 3))
        return f'<img src="{img}" alt="{title}" referrerpolicy="no-referrer"><br>{cap}'
    if kind == "video":
        desc, _ = _paras(rng, lang, min(budget, 1500), "{}\n", 1, 3)
        if rng.random() < 0.5:
            head = (f'<iframe width="640" height="360" src="https://player.vimeo.com/video/{rng.randint(10**8, 10**9)}" '
                    'frameborder="0" webkitallowfullscreen mozallowfullscreen allowfullscreen></iframe><br>\n')
        else:
            head = (f'<video controls="controls" preload="none" onclick="this.paused?this.play():this.pause()" '
                    f'poster="{img}" src="https://cdn.example-video.com/{_hex(rng, 32)}.mp4"></video><br>\n')
        return head + f'<div class="col-md-3 col-xs-12">\n<h2>{title}</h2>\n<pre>{"".join(desc)}</pre>\n</div>'

    parts: list[str] = []
    if kind == "sina":
        parts.append(f"<p>　　原标题：{title}</p>\n<p>　　{rng.choice(ZH_MEDIA)}记者 {rng.choice(ZH_NAMES)}</p>\n")
        paras, _ = _paras(rng, "zh", budget, "<p>　　{}</p>\n")
        paras[-1] = paras[-1].rstrip("\n")
        parts.extend(paras)
        parts.append("<!-- news_keyword_pub,stock, -->")
        parts.append(_app_footer(rng, site.logo or SINA_LOGO))
        return "".join(parts)
    if kind == "juejin":
        parts.append(f'<div class="markdown-body"><style>{CSS_MARKDOWN}</style>')
        budget -= len(CSS_MARKDOWN)
        k = 0
        while budget > 0:
            parts.append(f'<h2 data-id="heading-{k}">{_sentences(rng, "zh", 1)[:20]}</h2>')
            paras, used = _paras(rng, "zh", min(budget, 900), "<p>{}</p>")
            parts.extend(paras)
            budget -= used
            if rng.random() < 0.6:
                code = rng.choice(CODE_SNIPPETS)
                parts.append(f'<pre><code class="hljs language-javascript copyable" lang="javascript">{code}'
                             '<span class="copy-code-btn">复制代码</span></code></pre>')
                budget -= len(code) + 120
            k += 1
        parts.append("</div>")
        return "".join(parts)
    if kind == "gamenews":
        first = True
        while budget > 0:
            if first or rng.random() < 0.35:
                src = img if first else _img_url(rng, site, ts)
                parts.append(f'<p align="center">\n<img src="{src}" alt="{title}" referrerpolicy="no-referrer">\n</p>\n')
                first = False
            paras, used = _paras(rng, lang, min(budget, 1000), '<p style="text-indent:2em;">\n{}\n</p>\n')
            parts.extend(paras)
            budget -= used + 120
        if site.logo and rng.random() < 0.7:
            parts.append(_app_footer(rng, site.logo))
        return "".join(parts)
    if kind == "zhihu":
        while budget > 0:
            paras, used = _paras(rng, lang, min(budget, 800), "<p>{}</p><p><br></p>")
            parts.extend(paras)
            budget -= used
            if rng.random() < 0.4:
                src = _img_url(rng, site, ts)
                parts.append(f'<figure data-size="normal"><img src="{src}" data-caption="" data-size="normal" '
                             f'data-rawwidth="1080" data-rawheight="720" class="origin_image zh-lightbox-thumb" '
                             f'width="1080" data-original="{src}" referrerpolicy="no-referrer"></figure>')
                budget -= 2 * len(src) + 200
            if rng.random() < 0.2:
                parts.append('<p><a href="http://link.zhihu.com/?target=https%3A//example.com/" class=" external" '
                             'target="_blank" rel="nofollow noreferrer"><span class="invisible">https://</span>'
                             '<span class="visible">example.com/</span></a></p>')
        return "".join(parts)
    if kind in ("table", "forum"):
        if kind == "forum":
            parts.append(f'<table cellspacing="0" cellpadding="0"><tbody><tr><td class="t_f" '
                         f'id="postmessage_{rng.randint(10**6, 10**7)}">\n')
            while budget > 0:
                paras, used = _paras(rng, lang, min(budget, 900), "{}<br>\n<br>\n")
                parts.extend(paras)
                budget -= used
                if rng.random() < 0.5:
                    src = _img_url(rng, site, ts)
                    parts.append(f'<div align="center">\n<img id="aimg_{rng.randint(10**5, 10**6)}" '
                                 f'zoomfile="{src}" src="{src}" width="600" referrerpolicy="no-referrer">\n</div><br>\n')
                    budget -= 2 * len(src) + 100
            parts.append("</td></tr></tbody></table>")
            return "".join(parts)
        paras, used = _paras(rng, lang, budget // 2, '<p class="dl">{}</p>')
        parts.extend(paras)
        parts.append('<table class="tabstyle_20150616" border="1" cellspacing="0"><tbody><tr class="tabhead">'
                     "<th>证券代码</th><th>证券简称</th><th>机构家数</th><th>最新收盘价<br>（元）</th><th>期间涨跌幅（%）</th></tr>")
        rows = max(3, (budget - used) // 230)
        for _ in range(rows):
            name, _, _ = rng.choice(STOCKS)
            parts.append(f'<tr class="row1"><td align="center">{rng.randint(0, 699999):06d}</td>'
                         f'<td align="center">{name}</td><td align="right">{rng.randint(1, 120)}</td>'
                         f'<td align="center">{rng.uniform(2, 200):10.2f}</td>'
                         f'<td align="center">{rng.uniform(-10, 20):10.2f}</td></tr>')
        parts.append("</tbody></table><div class=\"txt_zhu\">注：本文系新闻报道，不构成投资建议，股市有风险，投资需谨慎。</div>")
        return "".join(parts)
    if kind == "blog":
        while budget > 0:
            r = rng.random()
            if r < 0.2:
                parts.append(f"<h2>{_sentences(rng, lang, 1)[:40]}</h2>\n")
            elif r < 0.3:
                parts.append(f"<blockquote><p>{_sentences(rng, lang, 2)}</p></blockquote>\n")
            elif r < 0.4:
                parts.append("<ul>" + "".join(f"<li>{_sentences(rng, lang, 1)}</li>" for _ in range(rng.randint(2, 5)))
                             + "</ul>\n")
            elif r < 0.46:
                parts.append(f"<pre><code>{rng.choice(CODE_SNIPPETS)}</code></pre>\n")
            elif r < 0.55:
                parts.append(f'<p><img src="{_img_url(rng, site, ts)}" referrerpolicy="no-referrer"></p>\n')
            paras, used = _paras(rng, lang, min(budget, 700), "<p>{}</p>\n", 1, 5)
            parts.extend(paras)
            budget -= used + 60
        return "".join(parts)
    # "news" (generic)
    if rng.random() < 0.6:
        parts.append(f'<p><img src="{img}" referrerpolicy="no-referrer"></p>\n')
    while budget > 0:
        paras, used = _paras(rng, lang, min(budget, 900), "<p>{}</p>\n")
        parts.extend(paras)
        budget -= used
        r = rng.random()
        if r < 0.2:
            parts.append(f'<p><img src="{_img_url(rng, site, ts)}" referrerpolicy="no-referrer"></p>\n')
        elif r < 0.3:
            parts.append(f"<p><strong>{_sentences(rng, lang, 1)}</strong></p>\n")
    if site.logo and rng.random() < 0.7:
        parts.append(_app_footer(rng, site.logo))
    return "".join(parts)


# --------------------------------------------------------------------------
# Articles
# --------------------------------------------------------------------------
def _rng_for(index: int, seed: int) -> random.Random:
    return random.Random(seed * 0x1_0000_0000 + index)


def article_text(index: int, rng: random.Random, *, when: datetime | None = None,
                 well_formed: bool = False) -> tuple[str, str]:
    """Article number ``index`` drawn from ``rng``: (relative posix path, file text).

    ``when`` overrides the date (written as RFC 822 GMT); ``well_formed`` forces a
    quoted, non-blank title and a valid date.  Neither changes the path or the
    rest of the article.
    """
    site = SITES[_bisect(rng.random() * _SITE_WEIGHTS[-1])]
    sub = rng.choice(site.subs)
    ts = rng.randint(DATE_START, DATE_END)
    text = _title_text(rng, site, ts)
    title_line = _title_line(rng, site, text, well_formed)

    # date spelling
    r = rng.random()
    if site.style == "new":
        dform = "rfc" if r < 0.92 else ("naive" if r < 0.975 else "invalid")
    else:
        dform = "naive" if r < 0.55 else ("rfc" if r < 0.95 else "invalid")
    if when is not None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        date_str = _rfc822(int(when.timestamp()))
    elif well_formed and dform == "invalid":
        date_str = _rfc822(ts)
    else:
        date_str = {"rfc": _rfc822, "naive": _naive}.get(dform, lambda _ts: "Invalid Date")(ts)

    # image: real-looking, picsum placeholder, the site's app logo, or empty
    real_img = _img_url(rng, site, ts)
    r = rng.random()
    if site.logo and r < 0.75:
        head = site.logo
    elif site.style == "new":
        head = real_img if r < 0.8 else ("" if r < 0.88 else f"https://picsum.photos/400/300?random={rng.randint(0, 999)}")
    else:
        head = "" if (r < 0.5 or not site.img) else (real_img if r < 0.85 else
                                                     f"https://picsum.photos/400/300?random={rng.randint(0, 999)}")

    # body
    r = rng.random()
    budget = int(min(8000, max(500, rng.lognormvariate(7.6, 0.7))))
    if r < 0.015:
        body = None  # nothing after the front matter
    elif r < 0.035:
        body = ""
    else:
        body = _body(rng, site, text, ts, real_img, budget)
        r = rng.random()
        if r < 0.04 and site.kind != "juejin":
            body = f"<style>{CSS_ARTICLE}</style>\n" + body
        elif r < 0.07:  # plain text body, tags stripped
            body = _sentences(rng, site.lang, rng.randint(1, 12))
        if rng.random() < 0.1:
            body = f"{rng.choice(HTML_COMMENTS)}\n{body}\n{rng.choice(HTML_COMMENTS)}"

    # front matter
    if site.style == "new":
        cats, indent = [site.top, site.feed, sub], " "
        author = site.feed
    elif site.style == "old3":
        cats, indent = [site.top, site.feed, sub], "    "
        author = f"{site.feed} - {sub}"
    else:
        cats, indent = [site.top, f"{site.feed} - {sub}"], "    "
        author = f"{site.feed} - {sub}"
    if rng.random() < 0.002 and len(cats) == 3:
        cats[1] = ""  # an empty level, as in ' -  - 资讯'
    lines = ["---", title_line, "categories: "]
    lines += [f"{indent}- {c}" for c in cats]
    if site.style == "new":
        q = f"'{head}'"
        lines.append(f"headimg: {q}")
    else:
        q = rng.choice(("", "''")) if not head else head
    lines += [f"author: {author}", "comments: false", f"date: {date_str}", f"thumbnail: {q}", "---", ""]
    lead = "\n" if rng.random() < 0.92 else ""
    fm = lead + "\n".join(lines)
    if body is None:
        out = fm
    else:
        out = f"{fm}\n<div>   \n{body}  \n</div>\n            "

    # path
    if site.style == "new":
        rel = f"{site.top}/{site.feed}/{sub}/{_safe_name(text)}_{index}.md"
    else:
        rel = f"{site.feed} - {sub}/{index}.md"
    return rel, out


def _bisect(x: float) -> int:
    lo, hi = 0, len(_SITE_WEIGHTS) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if _SITE_WEIGHTS[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo


def article(index: int, seed: int = 1, *, when: datetime | None = None,
            well_formed: bool = False) -> tuple[str, str]:
    """(relative path, text) of article ``index`` for ``seed``; independent of corpus size."""
    return article_text(index, _rng_for(index, seed), when=when, well_formed=well_formed)


def new_article_text(index: int, seed: int = 1, *, when: datetime | None = None,
                     well_formed: bool = False) -> tuple[str, str]:
    """One more article for an existing corpus of ``index`` files (path does not collide)."""
    return article(index, seed, when=when, well_formed=well_formed)


def write_article(out_dir: Path | str, index: int, seed: int = 1, *, when: datetime | None = None,
                  well_formed: bool = False) -> Path:
    """Write article ``index`` under out_dir (creating folders) and return its path."""
    rel, text = article(index, seed, when=when, well_formed=well_formed)
    path = Path(out_dir) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def generate_stats(out_dir: Path | str, n: int, seed: int = 1) -> tuple[int, int]:
    """Write articles 0..n-1; return (files, bytes)."""
    out = os.fspath(out_dir)
    made: set[str] = set()
    total = 0
    for i in range(n):
        rel, text = article_text(i, _rng_for(i, seed))
        d = rel.rpartition("/")[0]
        if d not in made:
            os.makedirs(os.path.join(out, d), exist_ok=True)
            made.add(d)
        data = text.encode("utf-8")
        with open(os.path.join(out, rel), "wb") as f:
            f.write(data)
        total += len(data)
    return n, total


def generate(out_dir: Path | str, n: int, seed: int = 1) -> int:
    """Write n articles (indices 0..n-1) under out_dir; return the number of files written."""
    return generate_stats(out_dir, n, seed)[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("-n", type=int, default=20000, help="number of articles (default 20000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clean", action="store_true", help="remove OUT_DIR first")
    a = ap.parse_args(argv)
    if a.n < 0:
        ap.error("-n must be >= 0")
    if a.clean and a.out_dir.exists():
        shutil.rmtree(a.out_dir)
    a.out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    files, size = generate_stats(a.out_dir, a.n, a.seed)
    dt = time.perf_counter() - t0
    print(f"gen_corpus: {files} files, {size} bytes ({size / 1e6:.1f} MB), {dt:.2f} s, "
          f"seed {a.seed} -> {a.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
