/**
 * The words both the catalog and the request pool draw from: ~30 sections, 200 topics, 200
 * keywords, countries, languages, devices and competitive labels. Lists are ordered roughly by
 * popularity (the generators draw them Zipf-like, index 0 most often).
 */

export const SECTIONS = [
  "world", "politics", "economy", "business", "technology", "geopolitics", "markets", "science",
  "health", "climate", "sport", "culture", "opinion", "energy", "travel", "food", "style", "education",
  "cities", "media", "law", "security", "property", "autos", "personal-finance", "careers", "books",
  "film", "music", "wellness",
] as const;

const BASE_TOPICS = [
  "elections", "trade", "inflation", "interest-rates", "artificial-intelligence", "climate-change",
  "military-conflict", "diplomacy", "public-health", "energy-transition", "manufacturing", "startups",
  "cybersecurity", "immigration", "housing", "labour-market", "supply-chains", "semiconductors",
  "central-banks", "taxation", "cryptocurrency", "space", "biotech", "pharmaceuticals", "football",
  "tennis", "olympics", "formula-one", "streaming", "social-media", "privacy", "antitrust",
  "electric-vehicles", "aviation", "shipping", "agriculture", "water", "wildfires", "hurricanes",
  "earthquakes", "terrorism", "crime", "courts", "human-rights", "education-policy", "universities",
  "retail", "luxury", "tourism", "real-estate",
] as const;

const REGIONS = ["us", "europe", "asia", "china", "india", "africa", "latin-america", "middle-east", "uk", "russia"] as const;

/** Topics regional desks tag stories with: `elections-europe`, `trade-asia`, ... */
const REGIONAL_BASES = [
  "elections", "trade", "inflation", "energy", "politics", "economy", "security", "technology",
  "markets", "climate", "migration", "defence", "health", "infrastructure", "banking",
] as const;

/** 200 topics: 50 general ones and 150 regional variants. */
export const TOPICS: readonly string[] = [
  ...BASE_TOPICS,
  ...REGIONAL_BASES.flatMap((b) => REGIONS.map((r) => `${b}-${r}`)),
];

/** Topics advertisers commonly exclude (brand safety). */
export const SENSITIVE_TOPICS = [
  "military-conflict", "terrorism", "crime", "wildfires", "hurricanes", "earthquakes", "human-rights", "courts",
] as const;

const COUNTRY_WORDS = [
  "united states", "china", "ukraine", "russia", "india", "germany", "france", "united kingdom", "japan",
  "canada", "brazil", "mexico", "israel", "iran", "north korea", "south korea", "taiwan", "turkey",
  "saudi arabia", "nigeria", "south africa", "egypt", "australia", "italy", "spain", "poland", "netherlands",
  "sweden", "norway", "argentina", "indonesia", "vietnam", "pakistan", "kenya", "ethiopia", "venezuela",
  "colombia", "philippines", "thailand", "singapore",
] as const;

const ORG_WORDS = [
  "federal reserve", "european central bank", "nato", "united nations", "white house", "congress",
  "supreme court", "pentagon", "european union", "world bank", "imf", "opec", "who", "wto", "g7", "g20",
  "brics", "parliament", "senate", "kremlin", "downing street", "bundestag", "elysee", "sec", "ftc",
  "department of justice", "treasury", "commerce department", "bank of england", "bank of japan",
] as const;

const COMPANY_WORDS = [
  "apple", "microsoft", "alphabet", "amazon", "meta", "nvidia", "tesla", "openai", "tsmc", "samsung",
  "intel", "amd", "boeing", "airbus", "walmart", "exxon", "shell", "bp", "toyota", "volkswagen", "ford",
  "general motors", "byd", "huawei", "tiktok", "netflix", "disney", "pfizer", "moderna", "novo nordisk",
  "jpmorgan", "goldman sachs", "blackrock", "berkshire hathaway", "visa", "mastercard", "spacex", "uber",
  "airbnb", "shopify",
] as const;

const TERM_WORDS = [
  "tariffs", "sanctions", "ceasefire", "interest rates", "recession", "unemployment", "gdp", "budget",
  "deficit", "stimulus", "bond yields", "stock market", "oil prices", "gas prices", "heatwave", "drought",
  "flooding", "vaccine", "pandemic", "obesity drugs", "chips", "data centers", "large language models",
  "robotics", "quantum computing", "nuclear power", "solar", "wind power", "lithium", "rare earths",
  "minimum wage", "strike", "mortgage rates", "rent", "student loans", "pensions", "border", "asylum",
  "refugees", "drones", "missiles", "cyberattack", "ransomware", "election polls", "referendum",
  "impeachment", "indictment", "boko haram", "hamas", "hezbollah", "world cup", "champions league",
  "super bowl", "wimbledon", "grand prix", "box office", "oscars", "album release", "streaming wars",
  "subscription prices", "black friday", "holiday shopping", "travel chaos", "air fares", "cruises",
  "hotel prices", "housing market", "home prices", "crypto prices", "bitcoin", "ethereum", "stablecoins",
  "fintech", "mergers", "ipo", "layoffs", "earnings", "profit warning", "antitrust lawsuit", "privacy fine",
  "data breach", "ai regulation", "emissions", "net zero", "carbon tax", "electric cars", "charging stations",
  "battery plants", "supply shortages", "shipping rates", "port strike", "grain exports", "fertilizer",
  "food prices", "coffee prices", "cocoa prices", "school funding", "tuition", "university rankings",
] as const;

/** 200 keywords: places, institutions, companies and news terms. */
export const KEYWORDS: readonly string[] = [...COUNTRY_WORDS, ...ORG_WORDS, ...COMPANY_WORDS, ...TERM_WORDS].slice(0, 200);

/** Keywords advertisers commonly exclude. */
export const SENSITIVE_KEYWORDS = [
  "boko haram", "hamas", "hezbollah", "missiles", "drones", "cyberattack", "ransomware", "indictment", "refugees", "pandemic",
] as const;

/** Reader countries, most common first. */
export const COUNTRIES = [
  "US", "GB", "CA", "DE", "FR", "IN", "AU", "NL", "ES", "IT", "BR", "MX", "JP", "SE", "PL", "IE", "CH",
  "BE", "AT", "NO", "DK", "FI", "NZ", "SG", "ZA", "NG", "KE", "AR", "CO", "PH", "ID", "TR", "IL", "AE",
  "SA", "KR", "TW", "RU", "CN", "UA",
] as const;

/** Countries often excluded from campaigns (sanctions, no local business). */
export const EXCLUDED_COUNTRIES = ["RU", "CN", "IR", "KP", "BY", "SY", "CU", "VE"] as const;

export const LANGUAGES = ["en", "en-us", "en-gb", "fr", "de", "es", "it", "pt", "nl", "ja"] as const;

export const DEVICES = ["desktop", "mobile", "tablet"] as const;

/** Competitive labels: advertisers sharing one never appear together in a page view. */
export const COMPETITIVE_LABELS = [
  "retail", "cloud-software", "automotive", "airline", "bank", "insurance", "telecom", "streaming",
  "soft-drinks", "beer", "fast-food", "sportswear", "smartphones", "laptops", "energy", "pharma",
  "credit-cards", "brokerage", "crypto-exchange", "hotel", "car-rental", "travel-booking", "luxury",
  "cosmetics", "consulting", "accounting", "news-subscription", "gaming", "payments", "food-delivery",
  "ride-hailing", "real-estate", "mortgage", "education", "vpn", "cybersecurity", "chips", "fashion",
  "home-improvement", "grocery",
] as const;

export const CATEGORIES = [
  "retail", "technology", "automotive", "travel", "finance", "telecom", "media", "food-and-drink",
  "health", "energy", "fashion", "education", "house",
] as const;
