package org.unionportal.localsearch.module;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.charfilter.HTMLStripCharFilter;
import org.apache.lucene.analysis.charfilter.MappingCharFilter;
import org.apache.lucene.analysis.charfilter.NormalizeCharMap;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.core.LetterTokenizer;
import org.apache.lucene.analysis.core.LowerCaseFilter;
import org.apache.lucene.analysis.core.UpperCaseFilter;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.el.GreekLowerCaseFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.ga.IrishLowerCaseFilter;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.miscellaneous.LengthFilter;
import org.apache.lucene.analysis.miscellaneous.TrimFilter;
import org.apache.lucene.analysis.miscellaneous.TruncateTokenFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterIterator;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.apache.lucene.analysis.ngram.NGramTokenFilter;
import org.apache.lucene.analysis.pattern.PatternReplaceCharFilter;
import org.apache.lucene.analysis.pattern.PatternTokenizer;
import org.apache.lucene.analysis.reverse.ReverseStringFilter;
import org.apache.lucene.analysis.classic.ClassicTokenizer;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.tr.TurkishLowerCaseFilter;
import org.elasticsearch.common.regex.Regex;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.NormalizingCharFilterFactory;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;

import java.io.Reader;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Analysis components of the local module: a small stand-in for Elasticsearch's analysis-common module (which is not published to Maven Central).
 * Components are registered under the same names, with the same option names and defaults, as the official
 * module, and are built from the same Lucene classes, so index settings are portable to the official image.
 *
 * <p>Names the server itself already provides (standard tokenizer, stop/shingle token filters,
 * pre-configured lowercase) are not registered again.
 */
final class AnalysisComponents {

    private AnalysisComponents() {}

    static Map<String, AnalysisProvider<TokenFilterFactory>> tokenFilters() {
        Map<String, AnalysisProvider<TokenFilterFactory>> m = new TreeMap<>();
        m.put("lowercase", (is, env, name, s) -> lowercase(name, s.get("language")));
        m.put("uppercase", (is, env, name, s) -> normalizing(name, UpperCaseFilter::new));
        m.put("asciifolding", (is, env, name, s) -> asciiFolding(name, s.getAsBoolean("preserve_original", false)));
        m.put("trim", (is, env, name, s) -> normalizing(name, TrimFilter::new));
        m.put("unique", (is, env, name, s) -> {
            boolean samePos = s.getAsBoolean("only_on_same_position", false);
            return filter(name, ts -> new UniqueTokenFilter(ts, samePos));
        });
        m.put("edge_ngram", (is, env, name, s) -> {
            int min = s.getAsInt("min_gram", 1);
            int max = s.getAsInt("max_gram", 2);
            boolean keep = s.getAsBoolean("preserve_original", false);
            checkGrams(min, max);
            return filter(name, ts -> new EdgeNGramTokenFilter(ts, min, max, keep));
        });
        m.put("ngram", (is, env, name, s) -> {
            int min = s.getAsInt("min_gram", 1);
            int max = s.getAsInt("max_gram", 2);
            boolean keep = s.getAsBoolean("preserve_original", false);
            checkGrams(min, max);
            checkNgramDiff(is, min, max);
            return filter(name, ts -> new NGramTokenFilter(ts, min, max, keep));
        });
        m.put("word_delimiter_graph", (is, env, name, s) -> wordDelimiter(env, name, s, true));
        m.put("word_delimiter", (is, env, name, s) -> wordDelimiter(env, name, s, false));
        m.put("length", (is, env, name, s) -> {
            int min = s.getAsInt("min", 0);
            int max = s.getAsInt("max", Integer.MAX_VALUE);
            return filter(name, ts -> new LengthFilter(ts, min, max));
        });
        m.put("truncate", (is, env, name, s) -> {
            int len = s.getAsInt("length", 10);
            if (len <= 0) {
                throw new IllegalArgumentException("length parameter must be provided");
            }
            return filter(name, ts -> new TruncateTokenFilter(ts, len));
        });
        m.put("reverse", (is, env, name, s) -> filter(name, ReverseStringFilter::new));
        m.put("porter_stem", (is, env, name, s) -> filter(name, PorterStemFilter::new));
        m.put("kstem", (is, env, name, s) -> filter(name, KStemFilter::new));
        return m;
    }

    static Map<String, AnalysisProvider<CharFilterFactory>> charFilters() {
        Map<String, AnalysisProvider<CharFilterFactory>> m = new TreeMap<>();
        m.put("html_strip", (is, env, name, s) -> {
            List<String> escaped = s.getAsList("escaped_tags");
            Set<String> tags = escaped.isEmpty() ? null : new HashSet<>(escaped);
            return new CharFilterFactory() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public Reader create(Reader reader) {
                    return new HTMLStripCharFilter(reader, tags);
                }
            };
        });
        m.put("mapping", AnalysisPlugin.requiresAnalysisSettings((is, env, name, s) -> {
            List<String> rules = Analysis.getWordList(env, s, "mappings");
            if (rules == null) {
                throw new IllegalArgumentException("mapping requires either `mappings` or `mappings_path` to be configured");
            }
            NormalizeCharMap map = parseMappings(rules);
            return charFilter(name, r -> new MappingCharFilter(map, r));
        }));
        m.put("pattern_replace", AnalysisPlugin.requiresAnalysisSettings((is, env, name, s) -> {
            String p = s.get("pattern");
            if (p == null || p.isEmpty()) {
                throw new IllegalArgumentException("pattern is missing for [" + name + "] char filter of type 'pattern_replace'");
            }
            Pattern pattern = Regex.compile(p, s.get("flags"));
            String replacement = s.get("replacement", "");
            return charFilter(name, r -> new PatternReplaceCharFilter(pattern, replacement, r));
        }));
        return m;
    }

    static Map<String, AnalysisProvider<TokenizerFactory>> tokenizers() {
        Map<String, AnalysisProvider<TokenizerFactory>> m = new TreeMap<>();
        m.put("whitespace", (is, env, name, s) -> {
            int max = s.getAsInt("max_token_length", 255);
            return TokenizerFactory.newFactory(name, () -> new WhitespaceTokenizer(TokenStream.DEFAULT_TOKEN_ATTRIBUTE_FACTORY, max));
        });
        m.put("keyword", (is, env, name, s) -> {
            int buf = s.getAsInt("buffer_size", 256);
            return TokenizerFactory.newFactory(name, () -> new KeywordTokenizer(buf));
        });
        m.put("letter", (is, env, name, s) -> TokenizerFactory.newFactory(name, LetterTokenizer::new));
        m.put("classic", (is, env, name, s) -> {
            int max = s.getAsInt("max_token_length", 255);
            return TokenizerFactory.newFactory(name, () -> {
                ClassicTokenizer t = new ClassicTokenizer();
                t.setMaxTokenLength(max);
                return t;
            });
        });
        m.put("uax_url_email", (is, env, name, s) -> {
            int max = s.getAsInt("max_token_length", 255);
            return TokenizerFactory.newFactory(name, () -> {
                UAX29URLEmailTokenizer t = new UAX29URLEmailTokenizer();
                t.setMaxTokenLength(max);
                return t;
            });
        });
        m.put("pattern", (is, env, name, s) -> {
            Pattern pattern = Regex.compile(s.get("pattern", "\\W+"), s.get("flags"));
            int group = s.getAsInt("group", -1);
            return TokenizerFactory.newFactory(name, () -> new PatternTokenizer(pattern, group));
        });
        m.put("edge_ngram", (is, env, name, s) -> ngramTokenizer(is, name, s, true));
        m.put("ngram", (is, env, name, s) -> ngramTokenizer(is, name, s, false));
        return m;
    }

    // ---------------------------------------------------------------- token filters

    private static TokenFilterFactory filter(String name, Function<TokenStream, TokenStream> f) {
        return new TokenFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public TokenStream create(TokenStream ts) {
                return f.apply(ts);
            }
        };
    }

    /** Filters that are safe for normalizers (keyword fields) and multi-term queries. */
    private static TokenFilterFactory normalizing(String name, Function<TokenStream, TokenStream> f) {
        return new NormalizingTokenFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public TokenStream create(TokenStream ts) {
                return f.apply(ts);
            }
        };
    }

    private static TokenFilterFactory lowercase(String name, String language) {
        if (language == null) {
            return normalizing(name, LowerCaseFilter::new);
        }
        return switch (language.toLowerCase(Locale.ROOT)) {
            case "greek" -> normalizing(name, GreekLowerCaseFilter::new);
            case "irish" -> normalizing(name, IrishLowerCaseFilter::new);
            case "turkish" -> normalizing(name, TurkishLowerCaseFilter::new);
            default -> throw new IllegalArgumentException("language [" + language + "] not support for lower case");
        };
    }

    private static TokenFilterFactory asciiFolding(String name, boolean preserveOriginal) {
        return new NormalizingTokenFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public TokenStream create(TokenStream ts) {
                return new ASCIIFoldingFilter(ts, preserveOriginal);
            }

            @Override
            public TokenStream normalize(TokenStream ts) {
                // a normalizer must produce exactly one token, so the original is never kept here
                return new ASCIIFoldingFilter(ts, false);
            }
        };
    }

    private static void checkGrams(int min, int max) {
        if (min < 1 || max < min) {
            throw new IllegalArgumentException("min_gram [" + min + "] must be >= 1 and <= max_gram [" + max + "]");
        }
    }

    private static void checkNgramDiff(IndexSettings is, int min, int max) {
        int allowed = is == null ? 1 : is.getMaxNgramDiff();
        if (max - min > allowed) {
            throw new IllegalArgumentException(
                "The difference between max_gram and min_gram in NGram Tokenizer must be less than or equal to: ["
                    + allowed
                    + "] but was ["
                    + (max - min)
                    + "]. This limit can be set by changing the ["
                    + IndexSettings.MAX_NGRAM_DIFF_SETTING.getKey()
                    + "] index level setting."
            );
        }
    }

    private static TokenFilterFactory wordDelimiter(Environment env, String name, Settings s, boolean graph) {
        int flags = 0;
        // defaults are the ones documented for ES' word_delimiter(_graph)
        flags |= flag(s, "generate_word_parts", true, WordDelimiterGraphFilter.GENERATE_WORD_PARTS);
        flags |= flag(s, "generate_number_parts", true, WordDelimiterGraphFilter.GENERATE_NUMBER_PARTS);
        flags |= flag(s, "catenate_words", false, WordDelimiterGraphFilter.CATENATE_WORDS);
        flags |= flag(s, "catenate_numbers", false, WordDelimiterGraphFilter.CATENATE_NUMBERS);
        flags |= flag(s, "catenate_all", false, WordDelimiterGraphFilter.CATENATE_ALL);
        flags |= flag(s, "split_on_case_change", true, WordDelimiterGraphFilter.SPLIT_ON_CASE_CHANGE);
        flags |= flag(s, "preserve_original", false, WordDelimiterGraphFilter.PRESERVE_ORIGINAL);
        flags |= flag(s, "split_on_numerics", true, WordDelimiterGraphFilter.SPLIT_ON_NUMERICS);
        flags |= flag(s, "stem_english_possessive", true, WordDelimiterGraphFilter.STEM_ENGLISH_POSSESSIVE);
        flags |= flag(s, "ignore_keywords", false, WordDelimiterGraphFilter.IGNORE_KEYWORDS);
        final int f = flags;
        Set<?> protectedWords = Analysis.getWordSet(env, s, "protected_words");
        final CharArraySet prot = protectedWords == null ? null : CharArraySet.copy(protectedWords);
        if (s.get("type_table") != null || s.get("type_table_path") != null) {
            throw new IllegalArgumentException("[" + name + "]: type_table is not supported by the local analysis module");
        }
        if (graph) {
            boolean adjustOffsets = s.getAsBoolean("adjust_offsets", true);
            return filter(
                name,
                ts -> new WordDelimiterGraphFilter(ts, adjustOffsets, WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE, f, prot)
            );
        }
        return filter(name, ts -> new WordDelimiterFilter(ts, WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE, f, prot));
    }

    private static int flag(Settings s, String key, boolean def, int bit) {
        return s.getAsBoolean(key, def) ? bit : 0;
    }

    // ---------------------------------------------------------------- char filters

    private static CharFilterFactory charFilter(String name, Function<Reader, Reader> f) {
        return new NormalizingCharFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Reader create(Reader reader) {
                return f.apply(reader);
            }
        };
    }

    private static final Pattern MAPPING_RULE = Pattern.compile("(.*)\\s*=>\\s*(.*)\\s*$");

    private static NormalizeCharMap parseMappings(List<String> rules) {
        NormalizeCharMap.Builder b = new NormalizeCharMap.Builder();
        for (String rule : rules) {
            Matcher m = MAPPING_RULE.matcher(rule);
            if (m.find() == false) {
                throw new IllegalArgumentException("Invalid Mapping Rule : [" + rule + "]");
            }
            String lhs = unescape(m.group(1).trim());
            String rhs = unescape(m.group(2).trim());
            if (lhs.isEmpty()) {
                throw new IllegalArgumentException("Invalid Mapping Rule : [" + rule + "]. Illegal mapping.");
            }
            b.add(lhs, rhs);
        }
        return b.build();
    }

    /** Backslash escapes accepted in mapping rules: \\ \n \t \r \b \f \' \" and backslash-u followed by 4 hex digits. */
    private static String unescape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                out.append(c);
                continue;
            }
            char n = s.charAt(++i);
            switch (n) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'u' -> {
                    if (i + 4 >= s.length()) {
                        throw new IllegalArgumentException("Invalid escaped char in [" + s + "]");
                    }
                    out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> out.append(n);
            }
        }
        return out.toString();
    }

    // ---------------------------------------------------------------- tokenizers

    private static TokenizerFactory ngramTokenizer(IndexSettings is, String name, Settings s, boolean edge) {
        int min = s.getAsInt("min_gram", 1);
        int max = s.getAsInt("max_gram", 2);
        checkGrams(min, max);
        if (edge == false) {
            checkNgramDiff(is, min, max);
        }
        TokenChars chars = TokenChars.parse(s.getAsList("token_chars"), s.get("custom_token_chars"));
        return TokenizerFactory.newFactory(
            name,
            () -> edge ? new CharClassEdgeNGramTokenizer(min, max, chars) : new CharClassNGramTokenizer(min, max, chars)
        );
    }

    /** n-gram tokenizers honouring token_chars (Lucene's hook is the protected isTokenChar). */
    static final class CharClassNGramTokenizer extends org.apache.lucene.analysis.ngram.NGramTokenizer {
        private final TokenChars chars;

        CharClassNGramTokenizer(int min, int max, TokenChars chars) {
            super(min, max);
            this.chars = chars;
        }

        @Override
        protected boolean isTokenChar(int chr) {
            return chars == null || chars.matches(chr);
        }
    }

    static final class CharClassEdgeNGramTokenizer extends org.apache.lucene.analysis.ngram.EdgeNGramTokenizer {
        private final TokenChars chars;

        CharClassEdgeNGramTokenizer(int min, int max, TokenChars chars) {
            super(min, max);
            this.chars = chars;
        }

        @Override
        protected boolean isTokenChar(int chr) {
            return chars == null || chars.matches(chr);
        }
    }

    /** token_chars classes of ES' ngram/edge_ngram tokenizers. An empty list means "keep all characters". */
    static final class TokenChars {
        boolean letter, digit, whitespace, punctuation, symbol;
        Set<Integer> custom = new HashSet<>();

        static TokenChars parse(List<String> classes, String customChars) {
            if (classes == null || classes.isEmpty()) {
                return null;
            }
            TokenChars t = new TokenChars();
            for (String c : classes) {
                switch (c.toLowerCase(Locale.ROOT).trim()) {
                    case "letter" -> t.letter = true;
                    case "digit" -> t.digit = true;
                    case "whitespace" -> t.whitespace = true;
                    case "punctuation" -> t.punctuation = true;
                    case "symbol" -> t.symbol = true;
                    case "custom" -> {
                        if (customChars == null) {
                            throw new IllegalArgumentException("Token type: [custom] requires setting [custom_token_chars]");
                        }
                        customChars.codePoints().forEach(t.custom::add);
                    }
                    default -> throw new IllegalArgumentException(
                        "Unknown token type: '" + c + "', must be one of [symbol, custom, whitespace, letter, punctuation, digit]"
                    );
                }
            }
            return t;
        }

        boolean matches(int cp) {
            if (letter && Character.isLetter(cp)) {
                return true;
            }
            if (digit && Character.isDigit(cp)) {
                return true;
            }
            if (whitespace && Character.isWhitespace(cp)) {
                return true;
            }
            if (custom.contains(cp)) {
                return true;
            }
            int type = Character.getType(cp);
            if (punctuation) {
                switch (type) {
                    case Character.START_PUNCTUATION, Character.END_PUNCTUATION, Character.OTHER_PUNCTUATION,
                        Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                        Character.FINAL_QUOTE_PUNCTUATION:
                        return true;
                    default:
                        break;
                }
            }
            if (symbol) {
                switch (type) {
                    case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL:
                        return true;
                    default:
                        break;
                }
            }
            return false;
        }
    }
}
