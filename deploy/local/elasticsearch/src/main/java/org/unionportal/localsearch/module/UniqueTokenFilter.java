package org.unionportal.localsearch.module;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;

import java.io.IOException;

/**
 * Drops tokens whose text was already emitted. With {@code onlyOnSamePosition} the memory is
 * reset at every new position, so only stacked duplicates (e.g. from asciifolding with
 * preserve_original on an ASCII word) are removed.
 */
final class UniqueTokenFilter extends TokenFilter {
    private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
    private final PositionIncrementAttribute posInc = addAttribute(PositionIncrementAttribute.class);
    private final CharArraySet seen = new CharArraySet(16, false);
    private final boolean onlyOnSamePosition;

    UniqueTokenFilter(TokenStream in, boolean onlyOnSamePosition) {
        super(in);
        this.onlyOnSamePosition = onlyOnSamePosition;
    }

    @Override
    public boolean incrementToken() throws IOException {
        while (input.incrementToken()) {
            if (onlyOnSamePosition && posInc.getPositionIncrement() > 0) {
                seen.clear();
            }
            char[] buf = term.buffer();
            int len = term.length();
            if (seen.contains(buf, 0, len) == false) {
                char[] copy = new char[len];
                System.arraycopy(buf, 0, copy, 0, len);
                seen.add(copy);
                return true;
            }
        }
        return false;
    }

    @Override
    public void reset() throws IOException {
        super.reset();
        seen.clear();
    }
}
