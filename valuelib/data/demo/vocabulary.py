"""The demo warehouse's vocabulary: company names, value drivers by industry, and free text.

Words and driver recipes only; `valuelib.data.demo.build` draws from them with its seeded
random streams, so changing a list here changes the demo data.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- company names -------------------------------------------------------------------------

EN_STEMS = (
    "Blue Harbor", "Cedar Ridge", "Ironbridge", "Silver Creek", "Redfern", "Oakhaven",
    "Brightwater", "Granite Peak", "Meadowlark", "Stonegate", "Clearview", "Harborline",
    "Pinecrest", "Westbrook", "Eastgate", "Kestrel", "Lighthouse", "Riverbend", "Summit Ridge",
    "Tidewater", "Larkspur", "Copperfield", "Foxglove", "Highmoor", "Juniper", "Millstone",
    "Northfield", "Orchard Lane", "Quarry Hill", "Ravenswood", "Saltmarsh", "Thistledown",
    "Upland", "Valemont", "Wexford", "Yarrow", "Amberly", "Bramblewood", "Crescent Bay",
    "Fernhill",
)
EN_NOUNS = {
    "Logistics": ("Freight", "Logistics", "Haulage", "Cargo", "Distribution"),
    "Healthcare": ("Health", "Medical Group", "Clinics", "Care Partners", "Family Practice"),
    "Retail": ("Outfitters", "Market", "Home Goods", "Supply Co.", "Stores"),
    "Manufacturing": ("Industries", "Components", "Precision Works", "Fabrication", "Plastics"),
    "Financial Services": ("Capital", "Credit Union", "Insurance", "Bancorp", "Wealth Partners"),
    "Software": ("Systems", "Labs", "Analytics", "Software", "Cloudworks"),
}
KA_STEMS = (
    "თბილისი", "ქუთაისი", "ბათუმი", "ივერია", "კოლხეთი", "არაგვი", "მტკვარი", "ალაზანი",
    "რუსთავი", "გელათი", "სვანეთი", "კავკასია",
)
KA_NOUNS = {
    "Logistics": ("ლოჯისტიკა", "ტრანსი", "კარგო"),
    "Healthcare": ("კლინიკა", "მედიკალი", "სამედიცინო ცენტრი"),
    "Retail": ("მარკეტი", "სავაჭრო სახლი", "ჰიპერმარკეტი"),
    "Manufacturing": ("ინდუსტრია", "ქარხანა", "მრეწველობა"),
    "Financial Services": ("ბანკი", "კაპიტალი", "დაზღვევა"),
    "Software": ("სისტემები", "ტექნოლოგიები", "ლაბი"),
}
HY_STEMS = (
    "Արարատ", "Երևան", "Սևան", "Արագած", "Գյումրի", "Դիլիջան", "Նաիրի", "Արաքս", "Մասիս",
    "Զանգեզուր", "Տաթև", "Վանաձոր",
)
HY_NOUNS = {
    "Logistics": ("Լոգիստիկ", "Տրանս", "Կարգո"),
    "Healthcare": ("Կլինիկա", "Բժշկական կենտրոն", "Մեդիքալ"),
    "Retail": ("Մարկետ", "Առևտրի տուն", "Սուպերմարկետ"),
    "Manufacturing": ("Գործարան", "Արտադրություն", "Ինդուստրիա"),
    "Financial Services": ("Բանկ", "Կապիտալ", "Ապահովագրություն"),
    "Software": ("Տեխնոլոգիաներ", "Սիստեմներ", "Լաբ"),
}
HA_STEMS = (
    "Arewa", "Nasara", "Kano", "Zaria", "Katsina", "Sokoto", "Hadin Kai", "Albarka", "Gaskiya",
    "Zuma", "Bauchi", "Kaduna",
)
HA_NOUNS = {
    "Logistics": ("Sufuri", "Logistics", "Haulage"),
    "Healthcare": ("Lafiya Clinics", "Asibiti", "Health"),
    "Retail": ("Kasuwa", "Stores", "Mart"),
    "Manufacturing": ("Masana'antu", "Industries", "Mills"),
    "Financial Services": ("Arziki Capital", "Microfinance Bank", "Insurance"),
    "Software": ("Fasaha", "Technologies", "Systems"),
}
NY_STEMS = (
    "Tsogolo", "Chisomo", "Dzuwa", "Kuwala", "Mphatso", "Chikondi", "Mulanje", "Zomba", "Nyika",
    "Shire", "Madalitso", "Tiyamike",
)
NY_NOUNS = {
    "Logistics": ("Mayendedwe", "Logistics", "Transport"),
    "Healthcare": ("Thanzi", "Health", "Clinics"),
    "Retail": ("Msika", "Stores", "Traders"),
    "Manufacturing": ("Industries", "Mills", "Manufacturing"),
    "Financial Services": ("Chuma Finance", "Microfinance", "Insurance"),
    "Software": ("Technologies", "Systems", "Digital"),
}
NAMING = {
    "en-US": (EN_STEMS, EN_NOUNS, ("{} Inc.", "{} LLC", "{} Corp.", "{}", "{}")),
    "en-GB": (EN_STEMS, EN_NOUNS, ("{} Ltd", "{} plc", "{} Ltd", "{}", "{}")),
    "ka-GE": (KA_STEMS, KA_NOUNS, ("შპს „{}“", "{}")),
    "hy-AM": (HY_STEMS, HY_NOUNS, ("{} ՍՊԸ", "{}")),
    "ha-NG": (HA_STEMS, HA_NOUNS, ("{} Ltd", "{} Limited", "{}")),
    "ny-MW": (NY_STEMS, NY_NOUNS, ("{} Ltd", "{} Limited", "{}")),
}

# -- value drivers -------------------------------------------------------------------------


@dataclass(frozen=True)
class DriverSpec:
    """How one value driver of an industry is drawn: its baseline range, the improvement its
    target asks for, and the decimals and bounds of its measurements."""

    driver_id: str
    name: str
    unit: str
    direction: str
    lo: float  # baseline range
    hi: float
    gain_lo: float  # target = baseline improved by this fraction of the baseline
    gain_hi: float
    decimals: int
    floor: float = 0.0
    ceil: float = float("inf")


HIGHER, LOWER = "higher_is_better", "lower_is_better"
_H, _L, _D = HIGHER, LOWER, DriverSpec
DRIVERS = {
    "Logistics": (
        _D("on_time_delivery", "On-time delivery rate", "%", _H, 80, 90, .05, .10, 1, 0, 99.5),
        _D("order_processing_time", "Order processing time", "hours", _L, 20, 48, .3, .5, 1, .5),
        _D("picking_errors", "Picking errors", "per 1,000 orders", _L, 4, 9, .3, .5, 2),
        _D("empty_miles", "Empty miles", "%", _L, 15, 28, .15, .3, 1, 0, 100),
    ),
    "Healthcare": (
        _D("claim_denial_rate", "Claim denial rate", "%", _L, 8, 15, .3, .45, 1, 0, 100),
        _D("patient_intake_time", "Patient intake time", "minutes", _L, 18, 35, .25, .4, 1, 1),
        _D("no_show_rate", "Appointment no-show rate", "%", _L, 12, 20, .2, .35, 1, 0, 100),
        _D("scheduling_hours", "Staff hours on scheduling", "hours/week", _L, 60, 200, .3, .5, 0),
    ),
    "Retail": (
        _D("online_conversion", "Online conversion rate", "%", _H, 1.8, 3.2, .15, .3, 2, 0, 100),
        _D("stock_out_rate", "Stock-out rate", "%", _L, 5, 10, .25, .45, 1, 0, 100),
        _D("return_rate", "Return rate", "%", _L, 10, 18, .15, .3, 1, 0, 100),
        _D("inventory_turns", "Inventory turnover", "turns/year", _H, 4, 8, .15, .3, 1),
    ),
    "Manufacturing": (
        _D("unplanned_downtime", "Unplanned downtime", "hours/month", _L, 30, 80, .3, .5, 1),
        _D("first_pass_yield", "First-pass yield", "%", _H, 85, 93, .03, .06, 1, 0, 99.8),
        _D("scrap_rate", "Scrap rate", "%", _L, 3, 7, .25, .4, 2, 0, 100),
        _D("changeover_time", "Changeover time", "minutes", _L, 45, 120, .3, .5, 0, 1),
    ),
    "Financial Services": (
        _D("loan_processing_time", "Loan processing time", "days", _L, 8, 20, .35, .55, 1, .5),
        _D("false_positive_alerts", "False-positive fraud alerts", "per 1,000 transactions",
           _L, 15, 40, .3, .5, 1),
        _D("onboarding_time", "Customer onboarding time", "days", _L, 5, 14, .3, .5, 1, .5),
        _D("reporting_hours", "Analyst hours on regulatory reporting", "hours/month",
           _L, 200, 600, .3, .5, 0),
    ),
    "Software": (
        _D("release_frequency", "Release frequency", "releases/month", _H, 2, 6, .3, .6, 1),
        _D("mttr", "Mean time to resolve incidents", "hours", _L, 6, 24, .3, .5, 1, .1),
        _D("tickets_per_100_users", "Support tickets per 100 users", "tickets", _L, 8, 20,
           .2, .4, 1),
        _D("developer_onboarding", "Developer onboarding time", "days", _L, 15, 40, .3, .5, 0, 1),
    ),
}
CONFIDENCE = ("measured", "customer_confirmed", "estimated")

# -- free text -----------------------------------------------------------------------------

COMMENTS = {
    "promoter": (
        "The team is responsive and the dashboards save us hours every week.",
        "Great product, our operations leads use it daily.",
        "Onboarding was smooth and the ROI is clear.",
        "Automations paid for themselves within a quarter.",
        "Best vendor relationship we have.",
        "Support answers fast and knows our setup.",
    ),
    "passive": (
        "Good overall, but reporting could be more flexible.",
        "Does the job. Pricing is a bit high for what we use.",
        "Solid, though the mobile app needs work.",
        "Useful, but we need more training for new staff.",
        "Fine. Integrations took longer than planned.",
    ),
    "detractor": (
        "Too many outages this quarter.",
        "Support is slow to respond to critical issues.",
        "Hard to justify the cost; adoption is low outside one team.",
        "The integration with our ERP keeps breaking.",
        "We were promised features that still have not shipped.",
    ),
}
LOCAL_COMMENTS = {
    "ka-GE": {
        "promoter": ("ძალიან კმაყოფილი ვართ, გუნდი სწრაფად გვეხმარება.",),
        "passive": ("კარგი პროდუქტია, მაგრამ ანგარიშები უფრო მოქნილი უნდა იყოს.",),
        "detractor": ("მხარდაჭერა ნელია და ფასი მაღალია.",),
    },
    "hy-AM": {
        "promoter": ("Շատ գոհ ենք, թիմը միշտ արագ է օգնում։",),
        "passive": ("Լավ արտադրանք է, բայց հաշվետվությունները կարող էին ավելի ճկուն լինել։",),
        "detractor": ("Աջակցությունը դանդաղ է, իսկ գինը՝ բարձր։",),
    },
}
TEAMS = ("operations", "finance", "customer service", "warehouse", "sales", "IT", "quality")
SYSTEMS = ("Salesforce", "SAP", "NetSuite", "Workday", "ServiceNow", "Microsoft Teams",
            "Snowflake")
ROLES = ("COO", "Head of Operations", "VP Finance", "IT Director")
OWNERS = ("Customer: Head of Operations", "Customer: IT admin", "Customer: Exec sponsor",
           "Solutions engineer", "Joint")
GOALS = (
    "Roll out {feature} to the {team} team",
    "Reach {pct}% weekly active seats",
    "Train {n} new admins",
    "Connect the {system} integration",
    "Hold the quarterly executive business review",
    "Agree success metrics with the new {role}",
    "Build a leadership dashboard for the {team} team",
)
NOTES_RISK = (
    "Champion left; exec sponsor unconfirmed",
    "Budget freeze announced; expansion unlikely before renewal",
    "Competitor POC running in one business unit",
    "Procurement pushing for a 15% discount at renewal",
    "Usage dropped after their reorg; re-onboarding needed",
    "Exec sponsor on leave until next quarter",
)
NOTES_GOOD = (
    "Exec sponsor very engaged; good reference candidate",
    "Expansion to a second site under discussion",
    "Customer agreed to a joint case study",
    "Renewal verbally confirmed by the COO",
    "New admin appointed; needs training",
    "Data export for the QBR still pending from their IT",
)
