package io.paxcron.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void writesNestedValuesInMapOrder() {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("name", "nightly");
    value.put("count", 3);
    value.put("paused", false);
    value.put("next", List.of("a", "b"));
    value.put("none", null);
    assertEquals(
        "{\"name\":\"nightly\",\"count\":3,\"paused\":false,\"next\":[\"a\",\"b\"],\"none\":null}",
        Json.write(value));
  }

  @Test
  void escapesQuotesControlCharactersAndScriptClosers() {
    assertEquals(
        "\"a\\\"b\\\\c\\nd\\u0001\\u003c/script>\"", Json.write("a\"b\\c\nd\u0001</script>"));
  }

  @Test
  void writesNonFiniteNumbersAsNull() {
    assertEquals(
        "[null,null,1.5]", Json.write(Arrays.asList(Double.NaN, Double.POSITIVE_INFINITY, 1.5)));
  }

  @Test
  void refusesValuesItCannotWrite() {
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> Json.write(new Object()));
    assertEquals("cannot write a java.lang.Object as JSON", error.getMessage());
  }
}
