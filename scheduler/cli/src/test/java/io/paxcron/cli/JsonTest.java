package io.paxcron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void writtenJsonParsesBackWithEveryValueKindAndEscape() {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("text", "quote \" backslash \\ newline \n tab \t bell \u0007 é");
    value.put("count", 3);
    value.put("big", Long.MAX_VALUE);
    value.put("flag", true);
    value.put("nothing", null);
    value.put("list", Arrays.asList(1, "two", null, List.of(), Map.of()));
    for (String json : List.of(Json.write(value), Json.writeLine(value))) {
      JsonObject parsed = JsonParser.parseString(json).getAsJsonObject();
      assertEquals(value.get("text"), parsed.get("text").getAsString());
      assertEquals(3, parsed.get("count").getAsInt());
      assertEquals(Long.MAX_VALUE, parsed.get("big").getAsLong());
      assertEquals(true, parsed.get("flag").getAsBoolean());
      assertEquals(true, parsed.get("nothing").isJsonNull());
      assertEquals(5, parsed.getAsJsonArray("list").size());
    }
    assertEquals(1, Json.writeLine(value).lines().count());
  }
}
